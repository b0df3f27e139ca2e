using System.Data.Common;
using Dapper;
using PostService.Storage;

namespace PostService.Ingestion;

/// <summary>
/// Ingestion on SQLite: prepared single-row statements, each run once per row on one command (so prepared once per
/// batch), in transactions that concurrent requests share (<see cref="GroupCommit"/>).
/// </summary>
public sealed class SqliteRetrievalStore : IRetrievalStore
{
    private const string DeletePostsOfRequest = "DELETE FROM feed_request_posts WHERE request_id = @RequestId";

    private const string DeleteRequest = "DELETE FROM feed_requests WHERE request_id = @RequestId";

    private const string InsertRequest = """
        INSERT INTO feed_requests (request_id, requester_did, algo, timestamp, posts_json, received_at)
        VALUES (@RequestId, @RequesterDid, @Algo, to_ts(@Timestamp), to_json_doc(@PostsJson), to_ts(@ReceivedAt))
        """;

    private const string InsertRequestPost = """
        INSERT INTO feed_request_posts (request_id, post_index, post_uri, post_json)
        VALUES (@RequestId, @PostIndex, @PostUri, to_json_doc(@PostJson))
        """;

    private const string SelectExisting = "SELECT post_uri FROM posts WHERE post_uri IN @PostUris";

    private const string InsertPending = """
        INSERT INTO posts (post_uri, cid, hydration_status) VALUES (@PostUri, @Cid, 'pending')
        ON CONFLICT (post_uri) DO NOTHING
        """;

    private const string InsertInvalid = """
        INSERT INTO posts (post_uri, hydration_status, hydration_error) VALUES (@PostUri, 'invalid', @Error)
        ON CONFLICT (post_uri) DO NOTHING
        """;

    // An existing row keeps its status and metadata; it only gains a CID it lacked.
    private const string FillMissingCid = "UPDATE posts SET cid = @Cid WHERE post_uri = @PostUri AND cid IS NULL";

    // URIs per existence check: well under SQLite's limit on bound parameters.
    private const int ExistenceCheckChunk = 500;

    private readonly GroupCommit _groupCommit;

    public SqliteRetrievalStore(IDbConnectionFactory connections) => _groupCommit = new GroupCommit(connections, StoreAsync);

    public Task<RetrievalWrite> WriteAsync(RetrievalRows rows, CancellationToken cancellationToken) =>
        _groupCommit.WriteAsync(rows, cancellationToken);

    private static async Task<RetrievalWrite> StoreAsync(DbConnection connection, DbTransaction transaction, RetrievalRows rows)
    {
        await connection.ExecuteAsync(DeletePostsOfRequest, rows.Requests, transaction);
        var replaced = await connection.ExecuteAsync(DeleteRequest, rows.Requests, transaction);
        await connection.ExecuteAsync(InsertRequest, rows.Requests, transaction);
        await connection.ExecuteAsync(InsertRequestPost, rows.ServedPosts, transaction);
        return new RetrievalWrite(replaced, await AddUnseenPostsAsync(connection, transaction, rows.Posts));
    }

    /// <summary>
    /// One existence check per 500 URIs, then one prepared statement per kind of row rather than a statement per URI:
    /// preparing the insert, which carries the post_counts triggers, cost more than running it (profiled).
    /// </summary>
    private static async Task<IReadOnlyList<string>> AddUnseenPostsAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<NewPost> posts)
    {
        var ordered = posts.OrderBy(post => post.PostUri, StringComparer.Ordinal).ToList();
        var existing = new HashSet<string>(StringComparer.Ordinal);
        foreach (var chunk in ordered.Chunk(ExistenceCheckChunk))
        {
            existing.UnionWith(await connection.QueryAsync<string>(
                SelectExisting, new { PostUris = chunk.Select(post => post.PostUri).ToList() }, transaction));
        }
        var unseen = ordered.Where(post => !existing.Contains(post.PostUri)).ToList();
        var pending = unseen.Where(post => post.InvalidReason is null).ToList();
        await connection.ExecuteAsync(InsertInvalid,
            unseen.Where(post => post.InvalidReason is not null).Select(post => new { post.PostUri, Error = post.InvalidReason }), transaction);
        await connection.ExecuteAsync(InsertPending, pending, transaction);
        await connection.ExecuteAsync(FillMissingCid,
            ordered.Where(post => post is { Cid: not null, InvalidReason: null } && existing.Contains(post.PostUri)), transaction);
        return pending.Select(post => post.PostUri).ToList();
    }
}
