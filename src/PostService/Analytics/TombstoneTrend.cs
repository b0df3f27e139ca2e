using Dapper;
using PostService.Hydration;
using PostService.Storage;

namespace PostService.Analytics;

/// <summary>One UTC day: posts tombstoned that day and posts found missing at their latest fetch that day, each by reason.</summary>
/// <param name="Tombstoned">Posts that had been returned (or seen) and were found gone that day: <c>deleted_at</c> falls on it.</param>
/// <param name="NotFound">Posts now <c>not_found</c> whose latest fetch was that day, tombstoned or never returned.</param>
public sealed record TombstoneDay(
    string Day, long Tombstoned, IReadOnlyDictionary<string, long> TombstonedByReason, long NotFound, IReadOnlyDictionary<string, long> NotFoundByReason);

/// <summary>Tombstones and not-found reasons per UTC day since <paramref name="Since"/> (days with any listed, oldest first).</summary>
public sealed record TombstoneTrend(int Days, string Since, long Tombstoned, long NotFound, IReadOnlyList<TombstoneDay> PerDay);

/// <summary>
/// What became of served posts over time: tombstones by the day they were found gone, and not-found posts by the day of
/// their latest fetch, each split by the reason their PDS gave (<see cref="CoverageQueries.Unexplained"/> until it was asked).
/// </summary>
public sealed class TombstoneTrendQuery(IDbConnectionFactory connections)
{
    private const string TombstonedPerDay = """
        SELECT substr(ts_text(deleted_at), 1, 10) AS Day, not_found_reason AS Reason, count(*) AS Posts
        FROM posts WHERE deleted_at >= to_ts(@Since)
        GROUP BY substr(ts_text(deleted_at), 1, 10), not_found_reason
        """;

    private const string NotFoundPerDay = """
        SELECT substr(ts_text(last_hydrated_at), 1, 10) AS Day, not_found_reason AS Reason, count(*) AS Posts
        FROM posts WHERE hydration_status = 'not_found' AND last_hydrated_at >= to_ts(@Since)
        GROUP BY substr(ts_text(last_hydrated_at), 1, 10), not_found_reason
        """;

    public async Task<TombstoneTrend> GetAsync(DateTimeOffset now, int days, CancellationToken cancellationToken)
    {
        var since = now.UtcDateTime.Date.AddDays(1 - days);
        var parameters = new { Since = DbTime.ToText(new DateTimeOffset(since, TimeSpan.Zero)) };
        await using var connection = await connections.OpenAsync(cancellationToken);
        var tombstoned = await PerDayAsync(connection, TombstonedPerDay, parameters, cancellationToken);
        var notFound = await PerDayAsync(connection, NotFoundPerDay, parameters, cancellationToken);
        var perDay = tombstoned.Keys.Union(notFound.Keys).Order(StringComparer.Ordinal).Select(day =>
        {
            var gone = tombstoned.GetValueOrDefault(day) ?? new Dictionary<string, long>();
            var missing = notFound.GetValueOrDefault(day) ?? new Dictionary<string, long>();
            return new TombstoneDay(day, gone.Values.Sum(), gone, missing.Values.Sum(), missing);
        }).ToList();
        return new TombstoneTrend(days, since.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            perDay.Sum(day => day.Tombstoned), perDay.Sum(day => day.NotFound), perDay);
    }

    private static async Task<Dictionary<string, Dictionary<string, long>>> PerDayAsync(
        System.Data.Common.DbConnection connection, string sql, object parameters, CancellationToken cancellationToken)
    {
        var perDay = new Dictionary<string, Dictionary<string, long>>(StringComparer.Ordinal);
        // Read as tuples: on an empty result SQLite types expression columns as BLOB, which no record constructor matches.
        foreach (var (day, reason, posts) in await connection.QueryAsync<(string Day, string? Reason, long Posts)>(
            new CommandDefinition(sql, parameters, cancellationToken: cancellationToken)))
        {
            // As coverage counts it: a post whose PDS was not asked yet is unexplained.
            (perDay.TryGetValue(day, out var reasons) ? reasons : perDay[day] = new Dictionary<string, long>(StringComparer.Ordinal))[reason ?? CoverageQueries.Unexplained] = posts;
        }
        return perDay;
    }
}
