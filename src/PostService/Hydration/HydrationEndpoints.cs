using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using PostService.Http;
using PostService.Security;
using PostService.Storage;
using PostService.Upstream.Budget;

namespace PostService.Hydration;

public static class HydrationEndpoints
{
    private const int DefaultThroughputHours = 6;
    private const int MaxThroughputHours = 48;

    public static IEndpointRouteBuilder MapHydrationEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/hydrate", StartRun)
            .WithTags("Hydration")
            .WithName("StartHydrationRun")
            .WithSummary("Start a hydration run now")
            .WithDescription("""
                Hydrates everything that needs it: pending posts and failed posts whose retry time has come.
                force=true also re-fetches not_found and error posts; refresh=true re-fetches ok posts as well
                (only those last hydrated longer ago than older_than, e.g. 7d, 12h, 30m, when given); limit caps the
                posts attempted. Returns 202 with the run and its Location; wait=true answers 200 when the run ends.
                While a requested run is queued or active, that run is returned.
                """)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithApiAccess(ApiAccess.Write);

        var group = routes.MapGroup("/hydration").WithTags("Hydration").WithApiAccess(ApiAccess.Read);
        group.MapGet("/runs", ListRuns).WithName("ListHydrationRuns").WithSummary("The most recent hydration runs, newest first")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapGet("/runs/{id:long}", GetRun).WithName("GetHydrationRun").WithSummary("One hydration run; live counts while it runs")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/coverage", GetCoverage).WithName("GetHydrationCoverage")
            .WithSummary("Totals by status, coverage percentage, and not_found/error per day over the last 30 days");
        group.MapGet("/throughput", GetThroughput).WithName("GetHydrationThroughput")
            .WithSummary("Posts hydrated ok per minute over the last hours (default 6, at most 48)")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapGet("/stats", GetStats).WithName("GetHydrationStats").WithSummary("The live worker: queue, calls in flight, budget, 429s, totals, refresh backlog");
        return routes;
    }

    public static async Task<Results<Accepted<HydrationRunRecord>, Ok<HydrationRunRecord>, ProblemHttpResult>> StartRun(
        HydrationCoordinator coordinator,
        IOptions<HydrationOptions> options,
        bool? force,
        bool? refresh,
        [FromQuery(Name = "older_than")] string? olderThan,
        int? limit,
        bool? wait,
        CancellationToken cancellationToken)
    {
        if (!options.Value.Enabled)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Hydration is disabled",
                detail: "This instance runs without the hydration worker (PostService__Hydration__Enabled=false).");
        }
        TimeSpan? age = null;
        if (olderThan is not null)
        {
            if (!Age.TryParse(olderThan, out var parsed))
            {
                return Query.Invalid($"older_than must be {Age.Format}.");
            }
            age = parsed;
        }
        if (limit is <= 0)
        {
            return Query.Invalid("limit must be a positive number of posts.");
        }
        var (run, _) = await coordinator.RequestAsync(
            new RunSpec(RunTrigger.Manual, force ?? false, refresh ?? false, age, limit), cancellationToken);
        if (wait == true)
        {
            return TypedResults.Ok(await run.Completion.WaitAsync(cancellationToken));
        }
        return TypedResults.Accepted($"/hydration/runs/{run.RunId}", run.Snapshot());
    }

    public static async Task<Ok<IReadOnlyList<HydrationRunRecord>>> ListRuns(
        HydrationRunsRepository runs, HydrationCoordinator coordinator, int? limit, CancellationToken cancellationToken)
    {
        var recent = await runs.ListRecentAsync(Math.Clamp(limit ?? 50, 1, 1_000), cancellationToken);
        var active = coordinator.Active;
        return TypedResults.Ok<IReadOnlyList<HydrationRunRecord>>(
            recent.Select(run => active is not null && run.RunId == active.RunId ? active.Snapshot() : run).ToList());
    }

    public static async Task<Results<Ok<HydrationRunRecord>, ProblemHttpResult>> GetRun(
        long id, HydrationRunsRepository runs, HydrationCoordinator coordinator, CancellationToken cancellationToken)
    {
        if (coordinator.Active is { } active && active.RunId == id)
        {
            return TypedResults.Ok(active.Snapshot());
        }
        var run = await runs.GetAsync(id, cancellationToken);
        return run is null
            ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Run not found", detail: $"No hydration run with id {id}.")
            : TypedResults.Ok(run);
    }

    public static async Task<Ok<HydrationCoverage>> GetCoverage(CoverageQueries coverage, TimeProvider time, CancellationToken cancellationToken) =>
        TypedResults.Ok(await coverage.GetAsync(time.GetUtcNow(), CoverageQueries.TrendDays, cancellationToken));

    public static async Task<Results<Ok<HydrationThroughput>, ProblemHttpResult>> GetThroughput(
        CoverageQueries coverage, TimeProvider time, int? hours, CancellationToken cancellationToken)
    {
        if (Query.CheckLimit(hours, DefaultThroughputHours, MaxThroughputHours) is not { } span)
        {
            return Query.Invalid($"hours must be between 1 and {MaxThroughputHours}.");
        }
        return TypedResults.Ok(await coverage.GetThroughputAsync(time.GetUtcNow(), span, cancellationToken));
    }

    public static async Task<Ok<HydrationStats>> GetStats(
        HydrationMetrics metrics, CallsInFlight calls, HydrationQueue queue, RateBudget budget, HydrationCoordinator coordinator,
        HydrationRepository posts, RefreshSchedule refreshSchedule, IOptions<HydrationOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        var pausedUntil = budget.PausedUntil;
        var refreshes = await posts.CountRefreshesAsync(time.GetUtcNow(), cancellationToken);
        return TypedResults.Ok(new HydrationStats(
            options.Value.Enabled,
            queue.Depth,
            calls.Count,
            budget.UsedInWindow,
            budget.Limit,
            (int)budget.Window.TotalSeconds,
            pausedUntil > time.GetUtcNow() ? DbTime.ToText(pausedUntil) : null,
            metrics.SinceStart[HydrationCount.RateLimited],
            metrics.LastError,
            coordinator.Active is { RunId: > 0 } active ? active.RunId : null,
            metrics.SinceStart.Totals,
            refreshSchedule.Ages.Select(Age.ToText).ToList(),
            refreshes.Due,
            refreshes.Scheduled));
    }
}
