using Microsoft.AspNetCore.Http.HttpResults;
using PostService.Http;
using PostService.Posts;
using PostService.Security;

namespace PostService.Analytics;

/// <summary>A post's engagement series, oldest first.</summary>
public sealed record PostMetrics(string PostUri, IReadOnlyList<MetricSnapshot> Snapshots);

public static class MetricsEndpoints
{
    public const int MaxHours = 24 * 30;
    public const int MaxLimit = 500;

    public static IEndpointRouteBuilder MapMetricsEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/posts").WithTags("Engagement").WithApiAccess(ApiAccess.Read);
        group.MapGet("/velocity", RankByVelocity)
            .WithName("RankPostsByVelocity")
            .WithSummary("Posts ranked by what they gained in the last hours, with how often feeds served them")
            .WithDescription("""
                gained = the metric at the latest snapshot in the window (now - hours, now] minus the metric at the latest
                snapshot at or before its start (for a post first fetched inside the window: at its first snapshot there);
                per_hour = gained / hours. Only posts that gained are listed. metric: likes (default), reposts, replies,
                quotes or engagement (their sum); hours 1-720 (default 1); limit 1-500 (default 50).
                """)
            .ProducesProblem(StatusCodes.Status400BadRequest);
        // The post's at-URI is one path segment here, so it must be percent-encoded (at%3A%2F%2F...).
        group.MapGet("/{uri}/metrics", GetMetrics)
            .WithName("GetPostMetrics")
            .WithSummary("A post's engagement snapshots, oldest first: one per fetch whose counts changed")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return routes;
    }

    public static async Task<Results<Ok<PostMetrics>, ProblemHttpResult>> GetMetrics(
        string uri, MetricSnapshots snapshots, VelocityQuery posts, CancellationToken cancellationToken)
    {
        var postUri = PostsEndpoints.NormalizeRouteUri(uri);
        if (!await posts.PostExistsAsync(postUri, cancellationToken))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Post not found",
                detail: "No feed has served a post with this URI.");
        }
        return TypedResults.Ok(new PostMetrics(postUri, await snapshots.SeriesAsync(postUri, cancellationToken)));
    }

    public static async Task<Results<Ok<IReadOnlyList<PostVelocity>>, ProblemHttpResult>> RankByVelocity(
        VelocityQuery velocity, TimeProvider time, int? hours, string? metric, int? limit, CancellationToken cancellationToken)
    {
        if (Query.CheckLimit(hours, 1, MaxHours) is not { } window)
        {
            return Query.Invalid($"hours must be between 1 and {MaxHours}.");
        }
        if (Query.CheckLimit(limit, 50, MaxLimit) is not { } size)
        {
            return Query.Invalid($"limit must be between 1 and {MaxLimit}.");
        }
        // By name only: Enum.TryParse would also take numbers and comma-separated lists.
        var ranked = metric is null
            ? VelocityMetric.Likes
            : Enum.GetValues<VelocityMetric>().Cast<VelocityMetric?>().FirstOrDefault(value => string.Equals(value.ToString(), metric, StringComparison.OrdinalIgnoreCase));
        if (ranked is null)
        {
            return Query.Invalid("metric must be likes, reposts, replies, quotes or engagement.");
        }
        return TypedResults.Ok(await velocity.RankAsync(ranked.Value, window, size, time.GetUtcNow(), cancellationToken));
    }
}
