using Microsoft.AspNetCore.Http.HttpResults;
using PostService.Http;
using PostService.Security;

namespace PostService.Analytics;

public static class TombstonesEndpoints
{
    public const int DefaultDays = 30;
    public const int MaxDays = 366;

    public static IEndpointRouteBuilder MapTombstonesEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGroup("/posts").WithTags("Tombstones").WithApiAccess(ApiAccess.Read)
            .MapGet("/tombstones", GetTrend)
            .WithName("GetTombstoneTrend")
            .WithSummary("Tombstones and not-found reasons per UTC day: what became of served posts over time")
            .WithDescription("""
                Per UTC day of the last `days` (1-366, default 30, today included): posts tombstoned that day (deleted_at),
                and posts now not_found whose latest fetch was that day, each split by not_found_reason (deleted, hidden,
                account_*, unknown; unexplained until the author's PDS was asked). Days with neither are left out.
                """)
            .ProducesProblem(StatusCodes.Status400BadRequest);
        return routes;
    }

    public static async Task<Results<Ok<TombstoneTrend>, ProblemHttpResult>> GetTrend(
        TombstoneTrendQuery tombstones, TimeProvider time, int? days, CancellationToken cancellationToken)
    {
        if (Query.CheckLimit(days, DefaultDays, MaxDays) is not { } span)
        {
            return Query.Invalid($"days must be between 1 and {MaxDays}.");
        }
        return TypedResults.Ok(await tombstones.GetAsync(time.GetUtcNow(), span, cancellationToken));
    }
}
