using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using PostService.Atproto;
using PostService.Http;
using PostService.Security;
using PostService.Storage;

namespace PostService.Analytics;

/// <summary>A post carrying a hashtag.</summary>
public sealed class HashtagPost
{
    public required string PostUri { get; init; }
    public string? AuthorDid { get; init; }
    public string? AuthorHandle { get; init; }
    public string? Text { get; init; }
    public string? CreatedAt { get; init; }
    public long? LikeCount { get; init; }
    public long? RepostCount { get; init; }
    public long? ReplyCount { get; init; }
    public long? QuoteCount { get; init; }
    public long TimesServed { get; init; }
}

/// <summary>The posts of a hashtag, a page at a time.</summary>
public sealed class HashtagPostsQuery(IDbConnectionFactory connections)
{
    private const string SelectPage = """
        SELECT p.post_uri, p.author_did, p.author_handle, p.text, ts_text(p.created_at) AS created_at,
               p.like_count, p.repost_count, p.reply_count, p.quote_count,
               (SELECT count(*) FROM feed_request_posts served WHERE served.post_id = p.post_id) AS times_served
        FROM hashtags h
        JOIN post_hashtags ph ON ph.hashtag_id = h.id
        JOIN posts p ON p.post_uri = ph.post_uri
        WHERE h.name = @Name AND (@AfterUri IS NULL OR ph.post_uri > @AfterUri)
        ORDER BY ph.post_uri
        LIMIT @Limit
        """;

    private const string HashtagExists = "SELECT count(*) FROM hashtags WHERE name = @Name";

    public async Task<IReadOnlyList<HashtagPost>?> PageAsync(string name, int limit, string? afterUri, CancellationToken cancellationToken) =>
        await connections.QuerySingleOrDefaultAsync<long>(HashtagExists, new { Name = name }, cancellationToken) == 0
            ? null
            : await connections.QueryListAsync<HashtagPost>(SelectPage, new { Name = name, Limit = limit, AfterUri = afterUri }, cancellationToken);
}

public static class HashtagsEndpoints
{
    private const int MaxHours = 24 * 7;
    private const int MaxBaselineHours = 24 * 30;
    private const int MaxLimit = 200;
    private const int MaxPageSize = 1_000;

    public static IEndpointRouteBuilder MapHashtagsEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/hashtags").WithTags("Hashtags").WithApiAccess(ApiAccess.Read);
        group.MapGet("/trending", Trending)
            .WithName("TrendingHashtags")
            .WithSummary("Hashtags ranked by their spike score over what feeds served, with the counts behind each score")
            .WithDescription("""
                recent_rate = Σ served_h·e^(−age_h/hours) / Σ e^(−age_h/hours) over the last `hours` UTC hours (current one
                included; age_h from the middle of hour h to now); baseline_rate = servings in the `baseline_hours` before
                them / baseline_hours; score = (recent_rate − baseline_rate) / √(baseline_rate + 1). Read from
                hashtag_hourly_stats, which the service recomputes for recent hours every few minutes. hours 1-168
                (default 4), baseline_hours 1-720 (default 24), limit 1-200 (default 20).
                """)
            .ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapGet("/{name}/posts", ListPosts)
            .WithName("ListHashtagPosts")
            .WithSummary("A page of the posts carrying a hashtag (with or without #, any case), in post URI order")
            .WithDescription("Keyset pagination: pass next_cursor back as cursor until it is null. The name is normalised (NFKC, lower case).")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return routes;
    }

    public static async Task<Results<Ok<IReadOnlyList<TrendingHashtag>>, ProblemHttpResult>> Trending(
        TrendingQuery trending, TimeProvider time, int? hours, [FromQuery(Name = "baseline_hours")] int? baselineHours, int? limit,
        CancellationToken cancellationToken)
    {
        if (Query.CheckLimit(hours, 4, MaxHours) is not { } recent)
        {
            return Query.Invalid($"hours must be between 1 and {MaxHours}.");
        }
        if (Query.CheckLimit(baselineHours, 24, MaxBaselineHours) is not { } baseline)
        {
            return Query.Invalid($"baseline_hours must be between 1 and {MaxBaselineHours}.");
        }
        if (Query.CheckLimit(limit, 20, MaxLimit) is not { } size)
        {
            return Query.Invalid($"limit must be between 1 and {MaxLimit}.");
        }
        return TypedResults.Ok(await trending.RankAsync(recent, baseline, size, time.GetUtcNow(), cancellationToken));
    }

    public static async Task<Results<Ok<Page<HashtagPost>>, ProblemHttpResult>> ListPosts(
        string name, int? limit, string? cursor, HashtagPostsQuery posts, CancellationToken cancellationToken)
    {
        if (KeysetPage.Check(limit, cursor, 100, MaxPageSize, out var pageSize, out var afterUri) is { } invalid)
        {
            return invalid;
        }
        var items = Hashtag.Normalize(name) is { } normalized ? await posts.PageAsync(normalized, pageSize, afterUri, cancellationToken) : null;
        return items is null
            ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Hashtag not found",
                detail: $"No hydrated post carries the hashtag '{name}'.")
            : TypedResults.Ok(KeysetPage.Of(items, pageSize, post => post.PostUri));
    }
}
