using System.Data.Common;
using Dapper;
using PostService.Contracts;

namespace PostService.Data;

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
        VALUES (@RequestId, @RequesterDid, @Algo, @Timestamp, @PostsJson, @ReceivedAt)
        """;

    // A URI served twice in one request keeps its latest position, as the Python tool's INSERT OR REPLACE did.
    private const string UpsertRequestPost = """
        INSERT INTO feed_request_posts (request_id, post_index, post_uri, post_json)
        VALUES (@RequestId, @PostIndex, @PostUri, @PostJson)
        ON CONFLICT (request_id, post_uri) DO UPDATE SET post_index = excluded.post_index, post_json = excluded.post_json
        """;

    private const string SelectSummaryColumns = """
        SELECT r.request_id, r.requester_did, r.algo, r.timestamp, r.received_at,
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
           AND (@Since IS NULL OR r.timestamp >= @Since)
           AND (@Until IS NULL OR r.timestamp < @Until)
           AND (@AfterRequestId IS NULL OR r.request_id > @AfterRequestId)
         ORDER BY r.request_id
         LIMIT @Limit
        """;

    // Each statement below runs once per row on one command, so SQLite prepares it once per batch, not once per row.

    /// <summary>Removes the requests and their posts; how many of them existed.</summary>
    public static async Task<int> DeleteAsync(DbConnection connection, DbTransaction transaction, IReadOnlyCollection<long> requestIds)
    {
        var keys = requestIds.Select(id => new { RequestId = id }).ToList();
        await connection.ExecuteAsync(DeletePostsOfRequest, keys, transaction);
        return await connection.ExecuteAsync(DeleteRequest, keys, transaction);
    }

    public static Task InsertAsync(DbConnection connection, DbTransaction transaction, IEnumerable<FeedRequestRow> requests) =>
        connection.ExecuteAsync(InsertRequest, requests, transaction);

    public static Task InsertPostsAsync(DbConnection connection, DbTransaction transaction, IEnumerable<FeedRequestPostRow> posts) =>
        connection.ExecuteAsync(UpsertRequestPost, posts, transaction);

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
