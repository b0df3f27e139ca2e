using Dapper;
using PostService.Storage;

namespace PostService.FeedRequests;

public sealed record FeedRequestFilter(string? RequesterDid, string? Since, string? Until, int Limit, long? AfterRequestId);

/// <summary>The reads of <c>feed_requests</c> and <c>feed_request_posts</c>; ingestion writes them (<c>IRetrievalStore</c>).</summary>
public sealed class FeedRequestsRepository(IDbConnectionFactory connections)
{
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
