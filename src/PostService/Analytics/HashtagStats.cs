using Dapper;
using Microsoft.Extensions.Options;
using PostService.Storage;

namespace PostService.Analytics;

/// <summary>
/// <c>hashtag_hourly_stats</c>: per hashtag and UTC hour in which feeds served posts carrying it, the distinct posts
/// served, their distinct authors, how often they were served, and the posts' engagement (likes + reposts + replies +
/// quotes at their latest fetch). Recomputed from the served rows for a range of hours, so that it is exact whenever it
/// was last recomputed, and can be rebuilt.
/// </summary>
public sealed class HashtagStats(IDbConnectionFactory connections)
{
    private const string DeleteRange = "DELETE FROM hashtag_hourly_stats WHERE hour >= to_ts(@Since) AND hour < to_ts(@Until)";

    private const string InsertRangeTemplate = """
        INSERT INTO hashtag_hourly_stats (hashtag_id, hour, posts, unique_authors, times_served, engagement)
        SELECT per_post.hashtag_id, per_post.hour, count(*), count(DISTINCT per_post.author_did), sum(per_post.served), sum(per_post.engagement)
        FROM (
            SELECT ph.hashtag_id, {0} AS hour, p.post_uri, p.author_did, count(*) AS served,
                   coalesce(p.like_count, 0) + coalesce(p.repost_count, 0) + coalesce(p.reply_count, 0) + coalesce(p.quote_count, 0) AS engagement
            FROM feed_requests fr
            JOIN feed_request_posts fp ON fp.request_id = fr.request_id
            JOIN post_hashtags ph ON ph.post_uri = fp.post_uri
            JOIN posts p ON p.post_uri = fp.post_uri
            WHERE fr.timestamp >= to_ts(@Since) AND fr.timestamp < to_ts(@Until)
            GROUP BY ph.hashtag_id, {0}, p.post_uri, p.author_did, p.like_count, p.repost_count, p.reply_count, p.quote_count
        ) per_post
        GROUP BY per_post.hashtag_id, per_post.hour
        """;

    private readonly string _insertRange = string.Format(InsertRangeTemplate, connections.Dialect.HourOf("fr.timestamp"));

    /// <summary>The start of the UTC hour holding <paramref name="time"/>.</summary>
    public static DateTimeOffset HourOf(DateTimeOffset time) => new(time.UtcDateTime.Date.AddHours(time.UtcDateTime.Hour), TimeSpan.Zero);

    /// <summary>Recomputes every hour from the one holding <paramref name="since"/> up to the one before <paramref name="until"/>'s end.</summary>
    public Task<int> RecomputeAsync(DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken)
    {
        var range = new { Since = DbTime.ToText(HourOf(since)), Until = DbTime.ToText(HourOf(until).AddHours(1)) };
        return connections.WriteAsync(async (connection, transaction) =>
        {
            await connection.ExecuteAsync(DeleteRange, range, transaction);
            return await connection.ExecuteAsync(_insertRange, range, transaction);
        }, cancellationToken);
    }
}

/// <summary>
/// Keeps the recent hours of <c>hashtag_hourly_stats</c> current in the service: recomputes the last
/// <see cref="AnalyticsOptions.HashtagStatsHours"/> every <see cref="AnalyticsOptions.HashtagStatsIntervalSeconds"/>.
/// A failed pass is logged and the next one tries again.
/// </summary>
public sealed class HashtagStatsRefresher(HashtagStats stats, IOptions<AnalyticsOptions> options, TimeProvider time, ILogger<HashtagStatsRefresher> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(options.Value.HashtagStatsIntervalSeconds);
        if (interval == TimeSpan.Zero)
        {
            return;
        }
        try
        {
            while (true)
            {
                try
                {
                    var now = time.GetUtcNow();
                    await stats.RecomputeAsync(now.AddHours(-options.Value.HashtagStatsHours), now, stoppingToken);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    logger.LogWarning(exception, "Could not recompute the hashtag statistics; trying again in {Interval}", interval);
                }
                await Task.Delay(interval, time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
