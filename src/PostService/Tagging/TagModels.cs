namespace PostService.Tagging;

/// <summary>A tag and how many posts carry it.</summary>
public sealed class Tag
{
    public required string Name { get; init; }
    public string? Description { get; init; }

    /// <summary>A CSS colour for displays, e.g. <c>#1d4ed8</c>.</summary>
    public string? Color { get; init; }

    public required string CreatedAt { get; init; }
    public long Posts { get; init; }
}

/// <summary>Body of <c>POST /tags</c>: creates the tag, or updates the description and colour given of an existing one.</summary>
public sealed record TagRequest(string Name, string? Description, string? Color);

/// <summary>Body of <c>PUT /posts/{uri}/tags/{tag}</c>; all optional (<c>applied_by</c> defaults to <c>user</c>).</summary>
/// <param name="Confidence">0 to 1, e.g. a classifier's score.</param>
/// <param name="Version">The rule's or model's version.</param>
public sealed record PostTagRequest(TagSource? AppliedBy, double? Confidence, string? Notes, string? Version);

/// <summary>Body of <c>POST /tags/{tag}/posts</c>: the same tag on up to 1,000 posts.</summary>
public sealed record BulkTagRequest(IReadOnlyList<string>? Uris, TagSource? AppliedBy, double? Confidence, string? Notes, string? Version)
{
    public PostTagRequest Values => new(AppliedBy, Confidence, Notes, Version);
}

/// <summary>What a bulk tagging did: the posts now tagged, and the URIs no feed has served (not tagged).</summary>
public sealed record BulkTagResponse(int Tagged, IReadOnlyList<string> UnknownUris);

/// <summary>A tag on a post, with the post's author and text when it has been hydrated.</summary>
public sealed class PostTag
{
    public required string PostUri { get; init; }
    public required string Tag { get; init; }
    public TagSource AppliedBy { get; init; }
    public double? Confidence { get; init; }
    public string? Notes { get; init; }
    public string? Version { get; init; }
    public required string CreatedAt { get; init; }
    public string? AuthorDid { get; init; }
    public string? AuthorHandle { get; init; }
    public string? Text { get; init; }
    public required string HydrationStatus { get; init; }
}

/// <summary>The outcome of tagging one post.</summary>
public enum TaggingOutcome
{
    Tagged,
    UnknownTag,
    UnknownPost,
}
