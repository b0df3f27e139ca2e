using System.Data.Common;
using Dapper;
using PostService.Contracts;

namespace PostService.Data;

public static class HydrationStatus
{
    public const string Pending = "pending";
    public const string Ok = "ok";
    public const string NotFound = "not_found";
    public const string Error = "error";
    public const string Invalid = "invalid";

    public static readonly IReadOnlyList<string> All = [Pending, Ok, NotFound, Error, Invalid];
}

public sealed record PostFilter(string? AuthorDid, string? Status, int Limit, string? AfterUri);

/// <summary>All SQL on <c>posts</c> that ingestion and the read endpoints use.</summary>
public sealed class PostsRepository(IDbConnectionFactory connections)
{
    private const string InsertPending = """
        INSERT INTO posts (post_uri, cid, hydration_status) VALUES (@PostUri, @Cid, 'pending')
        ON CONFLICT (post_uri) DO NOTHING
        """;

    // An existing row keeps its status and metadata; it only gains a CID it lacked.
    private const string FillMissingCid = "UPDATE posts SET cid = @Cid WHERE post_uri = @PostUri AND cid IS NULL";

    private const string InsertInvalid = """
        INSERT INTO posts (post_uri, hydration_status, hydration_error) VALUES (@PostUri, 'invalid', @Reason)
        ON CONFLICT (post_uri) DO NOTHING
        """;

    private const string SelectExisting = "SELECT post_uri FROM posts WHERE post_uri IN @PostUris";

    private const string SelectColumns = """
        SELECT post_uri, cid, author_did, author_handle, indexed_at, created_at, text, langs AS langs_json,
               reply_parent_uri, reply_root_uri, embed_type, like_count, repost_count, reply_count, quote_count,
               hydration_status, hydration_error, last_hydrated_at, attempts, next_attempt_at, metadata_source
        FROM posts
        """;

    private const string SelectByUri = SelectColumns + " WHERE post_uri = @PostUri";

    private const string SelectPage = SelectColumns + """
         WHERE (@AuthorDid IS NULL OR author_did = @AuthorDid)
           AND (@Status IS NULL OR hydration_status = @Status)
           AND (@AfterUri IS NULL OR post_uri > @AfterUri)
         ORDER BY post_uri
         LIMIT @Limit
        """;

    // URIs per existence check: well under SQLite's limit on bound parameters.
    private const int ExistenceCheckChunk = 500;

    /// <summary>
    /// Adds the unseen URIs as <c>pending</c> and gives existing rows a CID they lack; returns the new URIs, in the
    /// order given. Each URI appears once, with the first CID it was served with. One existence check per 500 URIs
    /// and one prepared insert for all new rows, instead of an insert per URI (the count triggers make each
    /// statement's preparation costly).
    /// </summary>
    public static async Task<IReadOnlyList<string>> InsertPendingAsync(
        DbConnection connection, DbTransaction transaction, IReadOnlyList<(string PostUri, string? Cid)> posts)
    {
        var existing = new HashSet<string>(StringComparer.Ordinal);
        foreach (var chunk in posts.Chunk(ExistenceCheckChunk))
        {
            existing.UnionWith(await connection.QueryAsync<string>(
                SelectExisting, new { PostUris = chunk.Select(post => post.PostUri).ToList() }, transaction));
        }
        var fresh = posts.Where(post => !existing.Contains(post.PostUri)).ToList();
        await connection.ExecuteAsync(InsertPending, fresh.Select(post => new { post.PostUri, post.Cid }), transaction);
        await connection.ExecuteAsync(FillMissingCid,
            posts.Where(post => post.Cid is not null && existing.Contains(post.PostUri)).Select(post => new { post.PostUri, post.Cid }), transaction);
        return fresh.Select(post => post.PostUri).ToList();
    }

    public static Task InsertInvalidAsync(DbConnection connection, DbTransaction transaction, IEnumerable<(string PostUri, string Reason)> posts) =>
        connection.ExecuteAsync(InsertInvalid, posts.Select(post => new { post.PostUri, post.Reason }), transaction);

    public Task<PostRecord?> GetAsync(string postUri, CancellationToken cancellationToken) =>
        connections.QuerySingleOrDefaultAsync<PostRecord>(SelectByUri, new { PostUri = postUri }, cancellationToken);

    public Task<IReadOnlyList<PostRecord>> ListAsync(PostFilter filter, CancellationToken cancellationToken) =>
        connections.QueryListAsync<PostRecord>(SelectPage, filter, cancellationToken);
}
