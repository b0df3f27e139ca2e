using Dapper;
using PostService.Contracts;

namespace PostService.Data;

/// <summary>Read-only aggregates for coverage reports: counts from <c>post_counts</c>, the trend from an index.</summary>
public sealed class CoverageQueries(IDbConnectionFactory connections)
{
    private const string CountByStatus = """
        SELECT hydration_status AS Status, sum(posts) AS Count, sum(with_author) AS WithAuthor
        FROM post_counts GROUP BY hydration_status
        """;

    private const string FailureTrend = """
        SELECT day AS Day,
               sum(CASE WHEN hydration_status = 'not_found' THEN posts ELSE 0 END) AS NotFound,
               sum(CASE WHEN hydration_status = 'error' THEN posts ELSE 0 END) AS Error
        FROM post_counts
        WHERE hydration_status IN ('not_found', 'error') AND day >= @Since AND posts > 0
        GROUP BY day
        ORDER BY day
        """;

    public async Task<HydrationCoverage> GetAsync(DateTimeOffset now, int trendDays, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var byStatus = HydrationStatus.All.ToDictionary(status => status, _ => 0L);
        var withAuthor = 0L;
        foreach (var (status, count, authored) in await connection.QueryAsync<(string Status, long Count, long WithAuthor)>(
            new CommandDefinition(CountByStatus, cancellationToken: cancellationToken)))
        {
            byStatus[status] = count;
            withAuthor += authored;
        }
        var since = now.UtcDateTime.Date.AddDays(1 - trendDays).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var trend = await connection.QueryAsync<FailureTrendDay>(new CommandDefinition(FailureTrend, new { Since = since }, cancellationToken: cancellationToken));

        var total = byStatus.Values.Sum();
        var valid = total - byStatus[HydrationStatus.Invalid];
        var pct = valid == 0 ? 0 : Math.Round(100.0 * withAuthor / valid, 2);
        return new HydrationCoverage(total, byStatus, withAuthor, pct, trend.ToList());
    }
}
