using PostService.Storage;

namespace PostService.Analytics;

/// <summary>One hashtag's statistics for one served hour, as stored.</summary>
public sealed class HashtagHour
{
    public required string Name { get; init; }
    public required string Hour { get; init; }
    public long Posts { get; init; }
    public long UniqueAuthors { get; init; }
    public long TimesServed { get; init; }
    public long Engagement { get; init; }
}

/// <summary>A window's hourly values, added up (a post served in two hours counts in each).</summary>
public sealed record WindowCounts(long TimesServed, long Posts, long UniqueAuthors, long Engagement)
{
    public static WindowCounts Sum(IEnumerable<HashtagHour> hours)
    {
        var list = hours.ToList();
        return new(list.Sum(hour => hour.TimesServed), list.Sum(hour => hour.Posts), list.Sum(hour => hour.UniqueAuthors), list.Sum(hour => hour.Engagement));
    }
}

/// <summary>A trending hashtag: its spike score and the counts behind it.</summary>
public sealed record TrendingHashtag(string Name, double Score, double RecentRate, double BaselineRate, WindowCounts Recent, WindowCounts Baseline);

/// <summary>
/// The spike score of a hashtag over what feeds served. The recent window is the last <c>hours</c> UTC hours (the
/// current one included), the baseline the <c>baseline_hours</c> before them.
/// <code>
///   recent_rate   = Σ served_h · e^(−age_h / hours) / Σ e^(−age_h / hours)   over the recent hours h (all of them, served or not)
///   baseline_rate = Σ served_h / baseline_hours                               over the baseline hours
///   score         = (recent_rate − baseline_rate) / √(baseline_rate + 1)
/// </code>
/// age_h is the hours from the middle of hour h to now, so the latest hours weigh most (an hour <c>hours</c> old weighs
/// e^−1 ≈ 0.37 of the current one). The score is a rise over the usual rate, in units of that rate's Poisson noise:
/// a tag served steadily scores about 0 however popular, one that appears from nothing scores its recent rate, and one
/// that doubles from 100 to 200 an hour scores about 10.
/// </summary>
public static class SpikeScore
{
    public static TrendingHashtag Score(string name, IReadOnlyList<HashtagHour> hours, DateTimeOffset now, int recentHours, int baselineHours)
    {
        var currentHour = HashtagStats.HourOf(now);
        var recentStart = currentHour.AddHours(-(recentHours - 1));
        var baselineStart = recentStart.AddHours(-baselineHours);
        var byHour = hours.ToDictionary(hour => Start(hour), hour => hour);
        double weighted = 0, weights = 0;
        for (var hour = recentStart; hour <= currentHour; hour = hour.AddHours(1))
        {
            var age = Math.Max(0, (now - hour.AddMinutes(30)).TotalHours);
            var weight = Math.Exp(-age / recentHours);
            weighted += weight * (byHour.TryGetValue(hour, out var served) ? served.TimesServed : 0);
            weights += weight;
        }
        var recent = hours.Where(hour => Start(hour) >= recentStart).ToList();
        var baseline = hours.Where(hour => Start(hour) >= baselineStart && Start(hour) < recentStart).ToList();
        var recentRate = weighted / weights;
        var baselineRate = (double)baseline.Sum(hour => hour.TimesServed) / baselineHours;
        var score = (recentRate - baselineRate) / Math.Sqrt(baselineRate + 1);
        return new TrendingHashtag(name, Math.Round(score, 3), Math.Round(recentRate, 3), Math.Round(baselineRate, 3),
            WindowCounts.Sum(recent), WindowCounts.Sum(baseline));
    }

    private static DateTimeOffset Start(HashtagHour hour) => DbTime.TryParse(hour.Hour, out var start) ? start : DateTimeOffset.MinValue;
}

/// <summary>Reads the hourly statistics of the trending windows and ranks the hashtags by <see cref="SpikeScore"/>.</summary>
public sealed class TrendingQuery(IDbConnectionFactory connections)
{
    private const string SelectHours = """
        SELECT h.name, ts_text(s.hour) AS hour, s.posts, s.unique_authors, s.times_served, s.engagement
        FROM hashtag_hourly_stats s JOIN hashtags h ON h.id = s.hashtag_id
        WHERE s.hour >= to_ts(@Since)
        """;

    public async Task<IReadOnlyList<TrendingHashtag>> RankAsync(int recentHours, int baselineHours, int limit, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var since = HashtagStats.HourOf(now).AddHours(-(recentHours - 1) - baselineHours);
        var rows = await connections.QueryListAsync<HashtagHour>(SelectHours, new { Since = DbTime.ToText(since) }, cancellationToken);
        return rows.GroupBy(row => row.Name, StringComparer.Ordinal)
            .Select(tag => SpikeScore.Score(tag.Key, tag.ToList(), now, recentHours, baselineHours))
            .Where(tag => tag.Recent.TimesServed > 0)
            .OrderByDescending(tag => tag.Score).ThenBy(tag => tag.Name, StringComparer.Ordinal)
            .Take(limit)
            .ToList();
    }
}
