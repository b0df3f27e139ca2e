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

public sealed record PostFilter(string? AuthorDid, string? Status, string? NotFoundReason, int Limit, string? AfterUri);

/// <summary>The reads of <c>posts</c> the endpoints use; ingestion adds rows (<c>IRetrievalStore</c>), hydration fills them.</summary>
public sealed class PostsRepository(IDbConnectionFactory connections)
{
    private const string SelectColumns = """
        SELECT post_uri, cid, author_did, author_handle, ts_text(indexed_at) AS indexed_at, ts_text(created_at) AS created_at,
               text, langs AS langs_json, reply_parent_uri, reply_root_uri, embed_type, like_count, repost_count, reply_count,
               quote_count, hydration_status, hydration_error, ts_text(last_hydrated_at) AS last_hydrated_at, attempts,
               ts_text(next_attempt_at) AS next_attempt_at, metadata_source, not_found_reason, resolved_uri
        FROM posts
        """;

    private const string SelectByUri = SelectColumns + " WHERE post_uri = @PostUri";

    private const string SelectPage = SelectColumns + """
         WHERE (@AuthorDid IS NULL OR author_did = @AuthorDid)
           AND (@Status IS NULL OR hydration_status = @Status)
           AND (@NotFoundReason IS NULL OR not_found_reason = @NotFoundReason)
           AND (@AfterUri IS NULL OR post_uri > @AfterUri)
         ORDER BY post_uri
         LIMIT @Limit
        """;

    public Task<PostRecord?> GetAsync(string postUri, CancellationToken cancellationToken) =>
        connections.QuerySingleOrDefaultAsync<PostRecord>(SelectByUri, new { PostUri = postUri }, cancellationToken);

    public Task<IReadOnlyList<PostRecord>> ListAsync(PostFilter filter, CancellationToken cancellationToken) =>
        connections.QueryListAsync<PostRecord>(SelectPage, filter, cancellationToken);
}
