using System.Data.Common;
using Dapper;
using PostService.Posts;
using PostService.Storage;

namespace PostService.Ingestion;

/// <summary>
/// Ingestion on PostgreSQL: a request in five statements over arrays (<c>unnest</c>), in two transactions of its own,
/// the request acknowledged after both. PostgreSQL takes concurrent writers and flushes concurrent commits together
/// itself; a shared transaction would only take row and id locks out of the sorted order that keeps replicas from
/// deadlocking. First the request's posts, committed alone: a concurrent request serving a post this one has just
/// added waits for that insert to commit, so it is kept short (with the served rows in the same transaction, which
/// need the posts' numbers, HTTP ingestion lost a third of its throughput). Then the requests and their served rows.
/// If that second transaction fails, the request is not acknowledged and its new posts stay <c>pending</c>, hydrated
/// like any other; the client's retry stores the rest.
/// </summary>
public sealed class PostgresRetrievalStore(IDbConnectionFactory connections) : IRetrievalStore
{
    // First the ids are locked (in order, so batches cannot deadlock): two replicas storing the same retrieval at once
    // take turns, the second replacing the first, instead of both inserting it and one failing on the key.
    private const string LockRequestIds = """
        SELECT pg_advisory_xact_lock(7316003, (ids.request_id % 2147483647)::int)
        FROM (SELECT request_id FROM unnest(@RequestIds) AS request_id ORDER BY request_id) ids
        """;

    // The served rows of a replaced request cascade with it.
    private const string DeleteRequests = "DELETE FROM feed_requests WHERE request_id = ANY(@RequestIds)";

    private const string InsertRequests = """
        INSERT INTO feed_requests (request_id, requester_did, algo, timestamp, posts_json, received_at)
        SELECT r.request_id, r.requester_did, r.algo, to_ts(r.timestamp), to_json_doc(r.posts_json), to_ts(r.received_at)
        FROM unnest(@RequestIds, @RequesterDids, @Algos, @Timestamps, @PostsJsons, @ReceivedAts)
            AS r(request_id, requester_did, algo, timestamp, posts_json, received_at)
        """;

    // After the posts, so that each served row finds its post's number (see M014_ServedRowsByPostId); a subquery per row,
    // which PostgreSQL answers from the key, where a join made it scan every post of a fresh table.
    private const string InsertRequestPosts = """
        INSERT INTO feed_request_posts (request_id, post_index, post_uri, post_json, post_id)
        SELECT s.request_id, s.post_index, s.post_uri, to_json_doc(s.post_json), (SELECT p.post_id FROM posts p WHERE p.post_uri = s.post_uri)
        FROM unnest(@RequestIds, @PostIndexes, @PostUris, @PostJsons) WITH ORDINALITY AS s(request_id, post_index, post_uri, post_json, n)
        ORDER BY s.n
        """;

    // Rows come in URI order, so concurrent batches lock shared rows in the same order and cannot deadlock; an existing
    // row only gains a CID it lacked; "xmax = 0" tells an inserted row from an existing one.
    private const string InsertPosts = """
        INSERT INTO posts AS p (post_uri, cid, hydration_status, hydration_error)
        SELECT n.post_uri, n.cid, n.hydration_status, n.hydration_error
        FROM unnest(@PostUris, @Cids, @Statuses, @Errors) WITH ORDINALITY AS n(post_uri, cid, hydration_status, hydration_error, i)
        ORDER BY n.i
        ON CONFLICT (post_uri) DO UPDATE SET cid = excluded.cid
            WHERE p.cid IS NULL AND excluded.cid IS NOT NULL AND excluded.hydration_status = 'pending'
        RETURNING p.post_uri, p.hydration_status, (xmax = 0) AS inserted
        """;

    public async Task<RetrievalWrite> WriteAsync(RetrievalRows rows, CancellationToken cancellationToken)
    {
        var newPending = await connections.WriteAsync((connection, transaction) => StorePostsAsync(connection, transaction, rows.Posts), cancellationToken);
        var replaced = await connections.WriteAsync((connection, transaction) => StoreRequestsAsync(connection, transaction, rows), cancellationToken);
        return new RetrievalWrite(replaced, newPending);
    }

    private static async Task<IReadOnlyList<string>> StorePostsAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<NewPost> newPosts)
    {
        var ordered = newPosts.OrderBy(post => post.PostUri, StringComparer.Ordinal).ToList();
        var posts = await connection.QueryAsync<(string PostUri, string HydrationStatus, bool Inserted)>(InsertPosts, new
        {
            PostUris = ordered.Select(post => post.PostUri).ToArray(),
            Cids = ordered.Select(post => post.Cid).ToArray(),
            Statuses = ordered.Select(post => post.InvalidReason is null ? HydrationStatus.Pending : HydrationStatus.Invalid).ToArray(),
            Errors = ordered.Select(post => post.InvalidReason).ToArray(),
        }, transaction);
        return posts.Where(post => post.Inserted && post.HydrationStatus == HydrationStatus.Pending).Select(post => post.PostUri).ToList();
    }

    private static async Task<int> StoreRequestsAsync(DbConnection connection, DbTransaction transaction, RetrievalRows rows)
    {
        await IngestEventLog.AppendAsync(connection, transaction, rows.Event);
        var requests = rows.Requests;
        var requestIds = requests.Select(request => request.RequestId).ToArray();
        await connection.ExecuteAsync(LockRequestIds, new { RequestIds = requestIds }, transaction);
        var replaced = await connection.ExecuteAsync(DeleteRequests, new { RequestIds = requestIds }, transaction);
        await connection.ExecuteAsync(InsertRequests, new
        {
            RequestIds = requestIds,
            RequesterDids = requests.Select(request => request.RequesterDid).ToArray(),
            Algos = requests.Select(request => request.Algo).ToArray(),
            Timestamps = requests.Select(request => request.Timestamp).ToArray(),
            PostsJsons = requests.Select(request => request.PostsJson).ToArray(),
            ReceivedAts = requests.Select(request => request.ReceivedAt).ToArray(),
        }, transaction);
        await connection.ExecuteAsync(InsertRequestPosts, new
        {
            RequestIds = rows.ServedPosts.Select(post => post.RequestId).ToArray(),
            PostIndexes = rows.ServedPosts.Select(post => post.PostIndex).ToArray(),
            PostUris = rows.ServedPosts.Select(post => post.PostUri).ToArray(),
            PostJsons = rows.ServedPosts.Select(post => post.PostJson).ToArray(),
        }, transaction);
        return replaced;
    }
}
