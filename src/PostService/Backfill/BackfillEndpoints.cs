using Microsoft.AspNetCore.Http.HttpResults;
using PostService.Security;

namespace PostService.Backfill;

/// <summary>The body of <c>POST /backfill/repos</c>.</summary>
/// <param name="Collections">Record types to keep: post, reply, quote, like, repost, follow, block; all when absent.</param>
public sealed record BackfillReposBody(IReadOnlyList<string>? Dids, DateTimeOffset? Since, DateTimeOffset? Until, IReadOnlyList<string>? Collections, bool? Refresh);

public sealed record BackfillJobs(IReadOnlyList<BackfillJob> Jobs);

public static class BackfillEndpoints
{
    public const int MaxDidsPerRequest = 10_000;

    public static IEndpointRouteBuilder MapBackfillEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/backfill/repos").WithTags("Backfill");
        group.MapPost("/", EnqueueBackfill)
            .WithName("EnqueueRepoBackfill")
            .WithSummary("Backfill participants' repositories from their PDSs into repo_records")
            .WithDescription("""
                One job per DID: the repository is downloaded (com.atproto.sync.getRepo), read, and its records of the
                given types created inside [since, until) are stored. A DID already backfilled is not downloaded again
                unless refresh is true; a failed one is retried. Answers 202 with the jobs; GET /backfill/repos/{did} follows one.
                """)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .WithApiAccess(ApiAccess.Write);
        group.MapGet("/{did}", GetBackfill)
            .WithName("GetRepoBackfill")
            .WithSummary("One DID's backfill job: status, repository revision, records stored, error")
            .WithApiAccess(ApiAccess.Read);
        return routes;
    }

    public static async Task<Results<Accepted<BackfillJobs>, ProblemHttpResult>> EnqueueBackfill(
        BackfillReposBody body, BackfillRepository jobs, BackfillSignal signal, TimeProvider time, CancellationToken cancellationToken)
    {
        if (BackfillRequests.Check(body.Dids ?? [], body.Since, body.Until, body.Collections) is { } problem)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid backfill request", detail: problem);
        }
        var dids = body.Dids!.Distinct(StringComparer.Ordinal).ToList();
        await jobs.EnqueueAsync(new BackfillRequest(dids, body.Since, body.Until, body.Collections, body.Refresh ?? false), time.GetUtcNow(), cancellationToken);
        signal.Wake();
        return TypedResults.Accepted((string?)null, new BackfillJobs(await jobs.ListAsync(dids, cancellationToken)));
    }

    public static async Task<Results<Ok<BackfillJob>, ProblemHttpResult>> GetBackfill(string did, BackfillRepository jobs, CancellationToken cancellationToken) =>
        await jobs.GetAsync(did, cancellationToken) is { } job
            ? TypedResults.Ok(job)
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No backfill job", detail: $"No backfill of '{did}' was asked for.");
}

/// <summary>Checks shared by the endpoint and the CLI verb.</summary>
public static class BackfillRequests
{
    /// <summary>Null when the request can be enqueued, else what is wrong with it.</summary>
    public static string? Check(IReadOnlyCollection<string> dids, DateTimeOffset? since, DateTimeOffset? until, IReadOnlyList<string>? collections)
    {
        if (dids.Count is 0 or > BackfillEndpoints.MaxDidsPerRequest)
        {
            return $"dids must name 1 to {BackfillEndpoints.MaxDidsPerRequest:N0} DIDs.";
        }
        if (dids.FirstOrDefault(did => !(did.StartsWith("did:plc:", StringComparison.Ordinal) || did.StartsWith("did:web:", StringComparison.Ordinal))
                                      || did.Length > 2_048) is { } bad)
        {
            return $"'{(bad.Length > 100 ? bad[..100] + "…" : bad)}' is not a did:plc or did:web DID.";
        }
        if (since is { } from && until is { } to && from >= to)
        {
            return "since must be before until.";
        }
        if (collections?.FirstOrDefault(type => !RepoRecordType.All.Contains(type)) is { } unknown)
        {
            return $"collection '{unknown}' is not one of {string.Join(", ", RepoRecordType.All)}.";
        }
        return null;
    }
}
