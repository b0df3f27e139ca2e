using Dapper;
using PostService.Hydration;
using PostService.Storage;
using PostService.Upstream.AppView;

namespace PostService.Analytics;

/// <summary>A post's engagement counts at one fetch.</summary>
public sealed class MetricSnapshot
{
    public required string CapturedAt { get; init; }
    public long? LikeCount { get; init; }
    public long? RepostCount { get; init; }
    public long? ReplyCount { get; init; }
    public long? QuoteCount { get; init; }

    /// <summary><c>appview</c> (getPosts), <c>firehose</c> or <c>repo</c>.</summary>
    public required string Source { get; init; }

    /// <summary>The values of <see cref="Source"/> (<c>repo</c> is reserved: a repository record carries no counts).</summary>
    public static readonly IReadOnlyList<string> Sources = [HydratedPost.FromAppView, HydratedPost.FromFirehose, "repo"];
}

/// <summary>
/// <c>post_metric_snapshots</c>: a row at each successful fetch whose counts differ from the post's last row (the first
/// fetch always writes one), so a post fetched often but unchanged costs nothing.
/// </summary>
public sealed class MetricSnapshots(IDbConnectionFactory connections) : IHydratedPostsHandler
{
    private const string InsertIfChanged = """
        INSERT INTO post_metric_snapshots (post_uri, captured_at, like_count, repost_count, reply_count, quote_count, source)
        SELECT @PostUri, to_ts(@CapturedAt), @LikeCount, @RepostCount, @ReplyCount, @QuoteCount, @Source
        WHERE NOT EXISTS (
            SELECT 1 FROM (
                SELECT like_count, repost_count, reply_count, quote_count FROM post_metric_snapshots
                WHERE post_uri = @PostUri ORDER BY captured_at DESC LIMIT 1
            ) last
            WHERE last.like_count IS NOT DISTINCT FROM @LikeCount AND last.repost_count IS NOT DISTINCT FROM @RepostCount
              AND last.reply_count IS NOT DISTINCT FROM @ReplyCount AND last.quote_count IS NOT DISTINCT FROM @QuoteCount
        )
        ON CONFLICT (post_uri, captured_at) DO NOTHING
        """;

    private const string SelectSeries = """
        SELECT ts_text(captured_at) AS captured_at, like_count, repost_count, reply_count, quote_count, source
        FROM post_metric_snapshots WHERE post_uri = @PostUri ORDER BY captured_at
        """;

    public Task HandleAsync(IReadOnlyList<HydratedPost> posts, DateTimeOffset fetchedAt, CancellationToken cancellationToken)
    {
        var capturedAt = DbTime.ToText(fetchedAt);
        var rows = posts.OrderBy(post => post.Uri, StringComparer.Ordinal).Select(post => new
        {
            PostUri = post.Uri,
            CapturedAt = capturedAt,
            post.LikeCount,
            post.RepostCount,
            post.ReplyCount,
            post.QuoteCount,
            post.Source,
        }).ToList();
        return connections.WriteAsync((connection, transaction) => connection.ExecuteAsync(InsertIfChanged, rows, transaction), cancellationToken);
    }

    /// <summary>The post's snapshots, oldest first.</summary>
    public Task<IReadOnlyList<MetricSnapshot>> SeriesAsync(string postUri, CancellationToken cancellationToken) =>
        connections.QueryListAsync<MetricSnapshot>(SelectSeries, new { PostUri = postUri }, cancellationToken);
}
