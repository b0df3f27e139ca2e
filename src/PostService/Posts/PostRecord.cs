using System.Text.Json;
using System.Text.Json.Serialization;

namespace PostService.Posts;

/// <summary>The canonical row for one post URI: who wrote it, and what hydration learned about it.</summary>
public sealed class PostRecord
{
    public required string PostUri { get; init; }
    public string? Cid { get; init; }
    public string? AuthorDid { get; init; }
    public string? AuthorHandle { get; init; }
    public string? IndexedAt { get; init; }
    public string? CreatedAt { get; init; }
    public string? Text { get; init; }

    [JsonIgnore]
    public string? LangsJson { get; init; }

    /// <summary>The record's language tags, as the AppView served them.</summary>
    public IReadOnlyList<string>? Langs => LangsJson is null ? null : JsonSerializer.Deserialize<string[]>(LangsJson);

    public string? ReplyParentUri { get; init; }
    public string? ReplyRootUri { get; init; }
    public string? EmbedType { get; init; }
    public long? LikeCount { get; init; }
    public long? RepostCount { get; init; }
    public long? ReplyCount { get; init; }
    public long? QuoteCount { get; init; }

    /// <summary><c>pending</c>, <c>ok</c>, <c>not_found</c>, <c>error</c> or <c>invalid</c>.</summary>
    public required string HydrationStatus { get; init; }
    public string? HydrationError { get; init; }
    public string? LastHydratedAt { get; init; }
    public long Attempts { get; init; }
    public string? NextAttemptAt { get; init; }

    /// <summary>
    /// <c>appview</c> when fetched by this service, <c>pds</c> when read from the author's PDS (a hidden post), <c>legacy</c>
    /// when taken from an older file's author columns.
    /// </summary>
    public string? MetadataSource { get; init; }

    /// <summary>For a <c>not_found</c> post, why, as its author's PDS says: <c>deleted</c>, <c>hidden</c>, <c>account_deactivated</c>,
    /// <c>account_takendown</c>, <c>account_suspended</c>, <c>account_deleted</c> or <c>unknown</c>; null until asked.</summary>
    public string? NotFoundReason { get; init; }

    /// <summary>
    /// When the post was tombstoned: the AppView stopped returning a post it had returned (<see cref="NotFoundReason"/>
    /// says why), or the firehose saw its author delete it. Its metadata stays as last seen; null while it is live.
    /// </summary>
    public string? DeletedAt { get; init; }

    /// <summary>For a handle-based URI, its DID form, which was hydrated.</summary>
    public string? ResolvedUri { get; init; }

    /// <summary>What the post embeds, in order (<c>GET /posts/{uri}</c> only; null in lists).</summary>
    public IReadOnlyList<StoredMedia>? Media { get; set; }
}

/// <summary>
/// One row of <c>post_media</c>. <see cref="Kind"/>: <c>image</c> (full-size URL, alt, aspect ratio, blob CID),
/// <c>video</c> (playlist URL, alt, aspect ratio, CID in <see cref="BlobCid"/>), <c>external</c> (link URI, title,
/// description), <c>quote</c> (the quoted post's URI).
/// </summary>
public sealed class StoredMedia
{
    public required string Kind { get; init; }
    public string? Url { get; init; }
    public string? Alt { get; init; }
    public int? Width { get; init; }
    public int? Height { get; init; }
    public string? BlobCid { get; init; }
    public string? Title { get; init; }
    public string? Description { get; init; }
    public string? QuotedUri { get; init; }
}
