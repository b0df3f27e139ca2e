using PostService.Storage;

namespace PostService.Posts;

public static class HydrationStatus
{
    public const string Pending = "pending";
    public const string Ok = "ok";
    public const string NotFound = "not_found";
    public const string Error = "error";
    public const string Invalid = "invalid";

    public static readonly IReadOnlyList<string> All = [Pending, Ok, NotFound, Error, Invalid];
}

/// <param name="HasMedia">Only posts embedding this kind of media (<c>image</c>, <c>video</c>, <c>external</c>, <c>quote</c>).</param>
/// <param name="IncludeDeleted">Tombstoned posts (<c>deleted_at</c> set) too.</param>
public sealed record PostFilter(string? AuthorDid, string? Status, string? NotFoundReason, int Limit, string? AfterUri, string? HasMedia = null, bool IncludeDeleted = true);

/// <summary>The reads of <c>posts</c> the endpoints use; ingestion adds rows (<c>IRetrievalStore</c>), hydration fills them.</summary>
public sealed class PostsRepository(IDbConnectionFactory connections)
{
    private const string SelectColumns = """
        SELECT post_uri, cid, author_did, author_handle, ts_text(indexed_at) AS indexed_at, ts_text(created_at) AS created_at,
               text, langs AS langs_json, reply_parent_uri, reply_root_uri, embed_type, like_count, repost_count, reply_count,
               quote_count, hydration_status, hydration_error, ts_text(last_hydrated_at) AS last_hydrated_at, attempts,
               ts_text(next_attempt_at) AS next_attempt_at, metadata_source, not_found_reason, ts_text(deleted_at) AS deleted_at, resolved_uri
        FROM posts
        """;

    private const string SelectByUri = SelectColumns + " WHERE post_uri = @PostUri";

    private const string SelectPage = SelectColumns + """
         WHERE (@AuthorDid IS NULL OR author_did = @AuthorDid)
           AND (@Status IS NULL OR hydration_status = @Status)
           AND (@NotFoundReason IS NULL OR not_found_reason = @NotFoundReason)
           AND (@IncludeDeleted OR deleted_at IS NULL)
           AND (@AfterUri IS NULL OR post_uri > @AfterUri)
           AND (@HasMedia IS NULL OR EXISTS (SELECT 1 FROM post_media m WHERE m.post_uri = posts.post_uri AND m.kind = @HasMedia))
         ORDER BY post_uri
         LIMIT @Limit
        """;

    private const string SelectMedia = """
        SELECT kind, url, alt, width, height, blob_cid, title, description, quoted_uri FROM post_media WHERE post_uri = @PostUri ORDER BY position
        """;

    private readonly string _selectMany = SelectColumns + " WHERE " + connections.Dialect.IsAnyOf("post_uri", "@Uris");

    /// <summary>The post with its media.</summary>
    public async Task<PostRecord?> GetAsync(string postUri, CancellationToken cancellationToken)
    {
        var post = await connections.QuerySingleOrDefaultAsync<PostRecord>(SelectByUri, new { PostUri = postUri }, cancellationToken);
        if (post is not null)
        {
            post.Media = await connections.QueryListAsync<StoredMedia>(SelectMedia, new { PostUri = postUri }, cancellationToken);
        }
        return post;
    }

    /// <summary>Those of <paramref name="uris"/> that have a row, without their media.</summary>
    public Task<IReadOnlyList<PostRecord>> GetManyAsync(IReadOnlyCollection<string> uris, CancellationToken cancellationToken) =>
        connections.QueryListAsync<PostRecord>(_selectMany, new { Uris = connections.Dialect.List(uris) }, cancellationToken);

    public Task<IReadOnlyList<PostRecord>> ListAsync(PostFilter filter, CancellationToken cancellationToken) =>
        connections.QueryListAsync<PostRecord>(SelectPage, filter, cancellationToken);
}
