using Dapper;
using PostService.Identity;
using PostService.Posts;
using PostService.Storage;

namespace PostService.Hydration;

/// <summary>Read-only aggregates for coverage reports: counts from <c>post_counts</c>, the trend from an index.</summary>
public sealed class CoverageQueries(IDbConnectionFactory connections, IPostCountsFold fold)
{
    /// <summary>How many days of failures the coverage report shows, in the API and the CLI.</summary>
    public const int TrendDays = 30;

    private const string CountByStatus = """
        SELECT hydration_status AS Status, CAST(sum(posts) AS BIGINT) AS Count, CAST(sum(with_author) AS BIGINT) AS WithAuthor
        FROM post_counts GROUP BY hydration_status
        """;

    private const string FailureTrend = """
        SELECT day AS Day,
               CAST(sum(CASE WHEN hydration_status = 'not_found' THEN posts ELSE 0 END) AS BIGINT) AS NotFound,
               CAST(sum(CASE WHEN hydration_status = 'error' THEN posts ELSE 0 END) AS BIGINT) AS Error
        FROM post_counts
        WHERE hydration_status IN ('not_found', 'error') AND day >= @Since AND posts > 0
        GROUP BY day
        ORDER BY day
        """;

    // Read through the partial index on not_found posts' reasons alone (3 ms for 77,000 not_found posts; through the
    // status index, with every row read, 75-105 ms). A post not yet asked about (NULL) counts as unexplained.
    private const string NotFoundByReasonTemplate = """
        SELECT not_found_reason AS Reason, count(*) AS Posts FROM posts {0} WHERE hydration_status = 'not_found' GROUP BY not_found_reason
        """;

    private readonly string _notFoundByReason = string.Format(NotFoundByReasonTemplate, connections.Dialect.ReadThrough("idx_posts_not_found_reason"));

    /// <summary>The key of <c>not_found</c> posts whose PDS has not been asked yet, in <see cref="HydrationCoverage.NotFoundByReason"/>.</summary>
    public const string Unexplained = "unexplained";

    // A post counts in the minute of its latest successful hydration.
    private const string OkPerMinute = """
        SELECT substr(ts_text(last_hydrated_at), 1, 16) AS Minute, count(*) AS Hydrated
        FROM posts
        WHERE hydration_status = 'ok' AND last_hydrated_at >= to_ts(@Since)
        GROUP BY substr(ts_text(last_hydrated_at), 1, 16)
        ORDER BY Minute
        """;

    /// <summary>Brings <c>post_counts</c> up to date, where the store keeps changes apart first.</summary>
    public Task FoldCountsAsync(CancellationToken cancellationToken) => fold.FoldAsync(cancellationToken);

    public async Task<HydrationCoverage> GetAsync(DateTimeOffset now, int trendDays, CancellationToken cancellationToken)
    {
        await FoldCountsAsync(cancellationToken);
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
        // Read as tuples: on an empty result SQLite types expression columns as BLOB, which no record constructor matches.
        var trend = (await connection.QueryAsync<(string Day, long NotFound, long Error)>(
                new CommandDefinition(FailureTrend, new { Since = since }, cancellationToken: cancellationToken)))
            .Select(day => new FailureTrendDay(day.Day, day.NotFound, day.Error)).ToList();

        var reasons = NotFoundReason.All.Append(Unexplained).ToDictionary(reason => reason, _ => 0L);
        foreach (var (reason, posts) in await connection.QueryAsync<(string? Reason, long Posts)>(
            new CommandDefinition(_notFoundByReason, cancellationToken: cancellationToken)))
        {
            reasons[reason ?? Unexplained] = posts;
        }

        var total = byStatus.Values.Sum();
        var valid = total - byStatus[HydrationStatus.Invalid];
        var pct = valid == 0 ? 0 : Math.Round(100.0 * withAuthor / valid, 2);
        return new HydrationCoverage(total, byStatus, withAuthor, pct, trend, reasons);
    }

    /// <summary>Posts hydrated ok per UTC minute, over the <paramref name="hours"/> hours that end with the current minute.</summary>
    public async Task<HydrationThroughput> GetThroughputAsync(DateTimeOffset now, int hours, CancellationToken cancellationToken)
    {
        var currentMinute = new DateTimeOffset(now.UtcDateTime.Ticks - now.UtcDateTime.Ticks % TimeSpan.TicksPerMinute, TimeSpan.Zero);
        var since = DbTime.ToText(currentMinute.AddMinutes(1 - hours * 60));
        await using var connection = await connections.OpenAsync(cancellationToken);
        var minutes = (await connection.QueryAsync<(string Minute, long Hydrated)>(
                new CommandDefinition(OkPerMinute, new { Since = since }, cancellationToken: cancellationToken)))
            .Select(minute => new ThroughputMinute(minute.Minute, minute.Hydrated)).ToList();
        return new HydrationThroughput(hours, since, minutes.Sum(minute => minute.Hydrated), minutes);
    }
}
