using PostService.Storage;

namespace PostService.Analytics;

/// <summary>What velocity ranks posts by: one count, or all four added up.</summary>
public enum VelocityMetric
{
    Likes,
    Reposts,
    Replies,
    Quotes,
    Engagement,
}

/// <summary>What a post gained in the window, and how often feeds served it.</summary>
public sealed class PostVelocity
{
    public required string PostUri { get; init; }
    public string? AuthorHandle { get; init; }
    public string? Text { get; init; }

    /// <summary>The metric at the latest snapshot before the window, or at the window's first when there is none before.</summary>
    public long Baseline { get; init; }

    /// <summary>The metric at the latest snapshot in the window.</summary>
    public long Current { get; init; }

    public long Gained { get; init; }
    public double PerHour { get; set; }
    public required string LastCapturedAt { get; init; }
    public long TimesServed { get; init; }
}

/// <summary>
/// Ranks posts by what they gained over the last hours: the metric at the latest snapshot in the window minus the one
/// at the latest snapshot before it. A post first fetched inside the window is measured from that first snapshot, so
/// what it had when first seen does not count as a gain.
/// </summary>
public sealed class VelocityQuery(IDbConnectionFactory connections)
{
    private const string RankTemplate = """
        WITH windowed AS (
            SELECT post_uri, captured_at, {0} AS value,
                   row_number() OVER (PARTITION BY post_uri ORDER BY captured_at DESC) AS newest,
                   row_number() OVER (PARTITION BY post_uri ORDER BY captured_at) AS oldest
            FROM post_metric_snapshots
            WHERE captured_at > to_ts(@Since) AND captured_at <= to_ts(@Now)
        ),
        measured AS (
            SELECT latest.post_uri, latest.captured_at, latest.value AS current_value,
                   coalesce((SELECT {0} FROM post_metric_snapshots before
                             WHERE before.post_uri = latest.post_uri AND before.captured_at <= to_ts(@Since)
                             ORDER BY before.captured_at DESC LIMIT 1), earliest.value) AS baseline
            FROM windowed latest JOIN windowed earliest ON earliest.post_uri = latest.post_uri AND earliest.oldest = 1
            WHERE latest.newest = 1
        )
        SELECT m.post_uri, p.author_handle, p.text, m.baseline, m.current_value AS current, m.current_value - m.baseline AS gained,
               ts_text(m.captured_at) AS last_captured_at,
               (SELECT count(*) FROM feed_request_posts served WHERE served.post_id = p.post_id) AS times_served
        FROM measured m JOIN posts p ON p.post_uri = m.post_uri
        WHERE m.current_value - m.baseline > 0
        ORDER BY gained DESC, m.post_uri
        LIMIT @Limit
        """;

    private const string PostExists = "SELECT count(*) FROM posts WHERE post_uri = @PostUri";

    private static readonly Dictionary<VelocityMetric, string> Expressions = new()
    {
        [VelocityMetric.Likes] = "coalesce(like_count, 0)",
        [VelocityMetric.Reposts] = "coalesce(repost_count, 0)",
        [VelocityMetric.Replies] = "coalesce(reply_count, 0)",
        [VelocityMetric.Quotes] = "coalesce(quote_count, 0)",
        [VelocityMetric.Engagement] = "coalesce(like_count, 0) + coalesce(repost_count, 0) + coalesce(reply_count, 0) + coalesce(quote_count, 0)",
    };

    public async Task<IReadOnlyList<PostVelocity>> RankAsync(VelocityMetric metric, int hours, int limit, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var ranked = await connections.QueryListAsync<PostVelocity>(string.Format(RankTemplate, Expressions[metric]), new
        {
            Since = DbTime.ToText(now.AddHours(-hours)),
            Now = DbTime.ToText(now),
            Limit = limit,
        }, cancellationToken);
        foreach (var post in ranked)
        {
            post.PerHour = Math.Round((double)post.Gained / hours, 3);
        }
        return ranked;
    }

    public async Task<bool> PostExistsAsync(string postUri, CancellationToken cancellationToken) =>
        await connections.QuerySingleOrDefaultAsync<long>(PostExists, new { PostUri = postUri }, cancellationToken) > 0;
}
