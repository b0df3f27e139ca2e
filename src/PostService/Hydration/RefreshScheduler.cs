using Dapper;
using PostService.Storage;

namespace PostService.Hydration;

/// <summary>Posts with a refresh ahead (<paramref name="Scheduled"/>), and of those the ones whose refresh has come (<paramref name="Due"/>).</summary>
public sealed record RefreshCounts(long Scheduled, long Due);

/// <summary>
/// After posts are hydrated <c>ok</c>, books their next refresh (<see cref="RefreshSchedule"/>) from when each was first
/// served. That time is looked up once per post, from the earliest request that served it, and kept on the post.
/// </summary>
public sealed class RefreshScheduler(IDbConnectionFactory connections, RefreshSchedule schedule)
{
    private const string SelectKnownTemplate = "SELECT post_uri, ts_text(first_served_at) FROM posts WHERE {0}";

    private const string SelectFirstServedTemplate = """
        SELECT p.post_uri, ts_text(min(fr.timestamp))
        FROM posts p
        JOIN feed_request_posts frp ON frp.post_id = p.post_id
        JOIN feed_requests fr ON fr.request_id = frp.request_id
        WHERE {0}
        GROUP BY p.post_uri
        """;

    // Only while the post is still ok: a later outcome of another process wins.
    private const string SaveSchedule = """
        UPDATE posts SET first_served_at = to_ts(@FirstServedAt), next_refresh_at = to_ts(@NextRefreshAt)
        WHERE post_uri = @PostUri AND hydration_status = 'ok'
        """;

    private readonly string _selectKnown = string.Format(SelectKnownTemplate, connections.Dialect.IsAnyOf("post_uri", "@Uris"));
    private readonly string _selectFirstServed = string.Format(SelectFirstServedTemplate, connections.Dialect.IsAnyOf("p.post_uri", "@Uris"));

    /// <summary>Books the next refresh of <paramref name="uris"/>, fetched at <paramref name="fetchedAt"/>.</summary>
    public async Task ScheduleAsync(IReadOnlyCollection<string> uris, DateTimeOffset fetchedAt, CancellationToken cancellationToken)
    {
        if (schedule.IsOff || uris.Count == 0)
        {
            return;
        }
        var firstServed = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (uri, servedAt) in await connections.QueryListAsync<(string, string?)>(_selectKnown, new { Uris = connections.Dialect.List(uris) }, cancellationToken))
        {
            firstServed[uri] = servedAt;
        }
        var unknown = firstServed.Where(post => post.Value is null).Select(post => post.Key).ToList();
        if (unknown.Count > 0)
        {
            foreach (var (uri, servedAt) in await connections.QueryListAsync<(string, string?)>(
                _selectFirstServed, new { Uris = connections.Dialect.List(unknown) }, cancellationToken))
            {
                firstServed[uri] = servedAt;
            }
        }
        var rows = firstServed.Keys.Order(StringComparer.Ordinal).Select(uri => DbTime.TryParse(firstServed[uri], out var servedAt)
                ? new { PostUri = uri, FirstServedAt = DbTime.ToText(servedAt), NextRefreshAt = schedule.NextRefresh(servedAt, fetchedAt) is { } next ? DbTime.ToText(next) : null }
                : null)
            .OfType<object>()
            .ToList();
        if (rows.Count > 0)
        {
            await connections.WriteAsync((connection, transaction) =>
                connection.ExecuteAsync(new CommandDefinition(SaveSchedule, rows, transaction, cancellationToken: cancellationToken)), cancellationToken);
        }
    }
}
