using System.Data.Common;
using Dapper;
using PostService.Storage;

namespace PostService.FeedRequests;

public sealed record FeedRequestRow(long RequestId, string RequesterDid, string? Algo, string Timestamp, string PostsJson, string ReceivedAt);

public sealed record FeedRequestPostRow(long RequestId, int? PostIndex, string? PostUri, string PostJson);

public sealed record FeedRequestFilter(string? RequesterDid, string? Since, string? Until, int Limit, long? AfterRequestId);

/// <summary>All SQL on <c>feed_requests</c> and <c>feed_request_posts</c>.</summary>
public sealed class FeedRequestsRepository(IDbConnectionFactory connections)
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

    // PostgreSQL: a whole batch in three statements over arrays; the posts cascade with their request. First the ids
    // are locked (in order, so batches cannot deadlock): two replicas storing the same retrieval at once take turns,
    // the second replacing the first, instead of both inserting it and one failing on the key.
    private const string LockRequestIds = """
        SELECT pg_advisory_xact_lock(7316003, (ids.request_id % 2147483647)::int)
        FROM (SELECT request_id FROM unnest(@RequestIds) AS request_id ORDER BY request_id) ids
        """;

    private const string DeleteRequestsBulk = "DELETE FROM feed_requests WHERE request_id = ANY(@RequestIds)";

    private const string InsertRequestsBulk = """
        INSERT INTO feed_requests (request_id, requester_did, algo, timestamp, posts_json, received_at)
        SELECT r.request_id, r.requester_did, r.algo, to_ts(r.timestamp), to_json_doc(r.posts_json), to_ts(r.received_at)
        FROM unnest(@RequestIds, @RequesterDids, @Algos, @Timestamps, @PostsJsons, @ReceivedAts)
            AS r(request_id, requester_did, algo, timestamp, posts_json, received_at)
        """;

    private const string InsertRequestPostsBulk = """
        INSERT INTO feed_request_posts (request_id, post_index, post_uri, post_json)
        SELECT p.request_id, p.post_index, p.post_uri, to_json_doc(p.post_json)
        FROM unnest(@RequestIds, @PostIndexes, @PostUris, @PostJsons) WITH ORDINALITY AS p(request_id, post_index, post_uri, post_json, n)
        ORDER BY p.n
        """;

    private const string SelectSummaryColumns = """
        SELECT r.request_id, r.requester_did, r.algo, ts_text(r.timestamp) AS timestamp, ts_text(r.received_at) AS received_at,
               (SELECT count(*) FROM feed_request_posts p WHERE p.request_id = r.request_id) AS post_count
        FROM feed_requests r
        """;

    private const string SelectRequest = SelectSummaryColumns + " WHERE r.request_id = @RequestId";

    private const string SelectServedPosts = """
        SELECT frp.post_index, frp.post_uri, p.author_did, p.author_handle, p.hydration_status, frp.post_json
        FROM feed_request_posts frp
        LEFT JOIN posts p ON p.post_uri = frp.post_uri
        WHERE frp.request_id = @RequestId
        ORDER BY frp.post_index IS NULL, frp.post_index, frp.id
        """;

    private const string SelectPage = SelectSummaryColumns + """
         WHERE (@RequesterDid IS NULL OR r.requester_did = @RequesterDid)
           AND (@Since IS NULL OR r.timestamp >= to_ts(@Since))
           AND (@Until IS NULL OR r.timestamp < to_ts(@Until))
           AND (@AfterRequestId IS NULL OR r.request_id > @AfterRequestId)
         ORDER BY r.request_id
         LIMIT @Limit
        """;

    /// <summary>
    /// Stores <paramref name="requests"/> with their <paramref name="posts"/>, replacing requests stored before under the
    /// same ids, and returns how many were replaced. Request ids must be distinct, and so must (request, URI) pairs.
    /// </summary>
    public static async Task<int> ReplaceAsync(DbConnection connection, DbTransaction transaction, SqlDialect dialect,
        IReadOnlyList<FeedRequestRow> requests, IReadOnlyList<FeedRequestPostRow> posts)
    {
        if (dialect.IsPostgres)
        {
            var requestIds = requests.Select(request => request.RequestId).ToArray();
            await connection.ExecuteAsync(LockRequestIds, new { RequestIds = requestIds }, transaction);
            var replaced = await connection.ExecuteAsync(DeleteRequestsBulk, new { RequestIds = requestIds }, transaction);
            await connection.ExecuteAsync(InsertRequestsBulk, new
            {
                RequestIds = requestIds,
                RequesterDids = requests.Select(request => request.RequesterDid).ToArray(),
                Algos = requests.Select(request => request.Algo).ToArray(),
                Timestamps = requests.Select(request => request.Timestamp).ToArray(),
                PostsJsons = requests.Select(request => request.PostsJson).ToArray(),
                ReceivedAts = requests.Select(request => request.ReceivedAt).ToArray(),
            }, transaction);
            await connection.ExecuteAsync(InsertRequestPostsBulk, new
            {
                RequestIds = posts.Select(post => post.RequestId).ToArray(),
                PostIndexes = posts.Select(post => post.PostIndex).ToArray(),
                PostUris = posts.Select(post => post.PostUri).ToArray(),
                PostJsons = posts.Select(post => post.PostJson).ToArray(),
            }, transaction);
            return replaced;
        }

        // SQLite: prepared single-row statements in one transaction are its fastest way in.
        // Each statement runs once per row on one command, so it is prepared once per batch.
        await connection.ExecuteAsync(DeletePostsOfRequest, requests, transaction);
        var replacedRows = await connection.ExecuteAsync(DeleteRequest, requests, transaction);
        await connection.ExecuteAsync(InsertRequest, requests, transaction);
        await connection.ExecuteAsync(InsertRequestPost, posts, transaction);
        return replacedRows;
    }

    public async Task<FeedRequestDetail?> GetAsync(long requestId, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var summary = await connection.QuerySingleOrDefaultAsync<FeedRequestSummary>(
            new CommandDefinition(SelectRequest, new { RequestId = requestId }, cancellationToken: cancellationToken));
        if (summary is null)
        {
            return null;
        }
        var posts = await connection.QueryAsync<ServedPost>(
            new CommandDefinition(SelectServedPosts, new { RequestId = requestId }, cancellationToken: cancellationToken));
        return new FeedRequestDetail
        {
            RequestId = summary.RequestId,
            RequesterDid = summary.RequesterDid,
            Algo = summary.Algo,
            Timestamp = summary.Timestamp,
            ReceivedAt = summary.ReceivedAt,
            PostCount = summary.PostCount,
            Posts = posts.ToList(),
        };
    }

    public Task<IReadOnlyList<FeedRequestSummary>> ListAsync(FeedRequestFilter filter, CancellationToken cancellationToken) =>
        connections.QueryListAsync<FeedRequestSummary>(SelectPage, filter, cancellationToken);
}
