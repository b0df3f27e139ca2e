using Dapper;
using PostService.Contracts;

namespace PostService.Data;

/// <summary>Read-only aggregates over <c>posts</c> for coverage reports; each is answered from an index.</summary>
public sealed class CoverageQueries(IDbConnectionFactory connections)
{
    /// <summary>How many days of failures the coverage report shows, in the API and the CLI.</summary>
    public const int TrendDays = 30;

    private const string CountByStatus = "SELECT hydration_status AS Status, count(*) AS Count FROM posts GROUP BY hydration_status";

    private const string CountWithAuthor = "SELECT count(author_did) FROM posts WHERE author_did IS NOT NULL";

    private const string FailureTrend = """
        SELECT substr(last_hydrated_at, 1, 10) AS Day,
               sum(CASE WHEN hydration_status = 'not_found' THEN 1 ELSE 0 END) AS NotFound,
               sum(CASE WHEN hydration_status = 'error' THEN 1 ELSE 0 END) AS Error
        FROM posts
        WHERE hydration_status IN ('not_found', 'error') AND last_hydrated_at >= @Since
        GROUP BY substr(last_hydrated_at, 1, 10)
        ORDER BY Day
        """;

    public async Task<HydrationCoverage> GetAsync(DateTimeOffset now, int trendDays, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var byStatus = HydrationStatus.All.ToDictionary(status => status, _ => 0L);
        foreach (var (status, count) in await connection.QueryAsync<(string Status, long Count)>(
            new CommandDefinition(CountByStatus, cancellationToken: cancellationToken)))
        {
            byStatus[status] = count;
        }
        var withAuthor = await connection.ExecuteScalarAsync<long>(new CommandDefinition(CountWithAuthor, cancellationToken: cancellationToken));
        var since = DbTime.ToText(now.UtcDateTime.Date.AddDays(1 - trendDays));
        // A tuple rather than the record: with no failures there is no row for SQLite to type the columns by, and Dapper
        // then finds no record constructor matching (byte[], byte[], byte[]).
        var trend = await connection.QueryAsync<(string Day, long NotFound, long Error)>(
            new CommandDefinition(FailureTrend, new { Since = since }, cancellationToken: cancellationToken));

        var total = byStatus.Values.Sum();
        var valid = total - byStatus[HydrationStatus.Invalid];
        var pct = valid == 0 ? 0 : Math.Round(100.0 * withAuthor / valid, 2);
        return new HydrationCoverage(total, byStatus, withAuthor, pct, trend.Select(day => new FailureTrendDay(day.Day, day.NotFound, day.Error)).ToList());
    }
}
