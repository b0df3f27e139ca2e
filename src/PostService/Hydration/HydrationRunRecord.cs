namespace PostService.Hydration;

/// <summary>One hydration run and what it did. Counts of a running run are live.</summary>
public sealed record HydrationRunRecord
{
    public long RunId { get; init; }

    public required RunTrigger Trigger { get; init; }
    public bool Force { get; init; }
    public bool Refresh { get; init; }
    public required string StartedAt { get; init; }
    public string? FinishedAt { get; init; }

    public required HydrationRunStatus Status { get; init; }
    public long Attempted { get; init; }
    public long Hydrated { get; init; }
    public long NotFound { get; init; }
    public long Errors { get; init; }
    public long SkippedCached { get; init; }
    public long ApiCalls { get; init; }
    public long RateLimited { get; init; }
    public long Retries { get; init; }
}

/// <summary>How complete post metadata is.</summary>
/// <param name="CoveragePct">Posts with an author DID, as a percentage of all posts with a valid URI.</param>
public sealed record HydrationCoverage(
    long TotalPosts,
    IReadOnlyDictionary<string, long> ByStatus,
    long WithAuthor,
    double CoveragePct,
    IReadOnlyList<FailureTrendDay> FailureTrend,
    IReadOnlyDictionary<string, long> NotFoundByReason);

/// <summary>Failures recorded on one UTC day (by <c>last_hydrated_at</c>).</summary>
public sealed record FailureTrendDay(string Day, long NotFound, long Error);

/// <summary>Posts whose latest hydration succeeded, per UTC minute; minutes without any are left out.</summary>
/// <param name="Since">The first minute counted (ISO-8601 UTC); the last is the current minute.</param>
public sealed record HydrationThroughput(int Hours, string Since, long Total, IReadOnlyList<ThroughputMinute> PerMinute);

/// <param name="Minute">The UTC minute, <c>yyyy-MM-ddTHH:mm</c>.</param>
public sealed record ThroughputMinute(string Minute, long Hydrated);

/// <summary>The live worker.</summary>
/// <param name="RefreshAfter">The refresh schedule: ages after first serving at which ok posts are fetched again (empty: off).</param>
/// <param name="RefreshBacklog">Ok posts whose scheduled refresh has come and not yet been made: they wait for budget that new URIs and retries leave.</param>
/// <param name="RefreshesScheduled">Ok posts with a refresh ahead, the backlog included.</param>
public sealed record HydrationStats(
    bool WorkerEnabled,
    int QueueDepth,
    int InFlightCalls,
    int CallsInCurrentWindow,
    int BudgetCalls,
    int BudgetWindowSeconds,
    string? PausedUntil,
    long RateLimitedSeen,
    string? LastError,
    long? ActiveRunId,
    HydrationTotals TotalsSinceStart,
    IReadOnlyList<string> RefreshAfter,
    long RefreshBacklog,
    long RefreshesScheduled);

/// <param name="Hydrated">Posts made ok, from the AppView or from the firehose's cache.</param>
/// <param name="HydratedFromFirehose">Of <paramref name="Hydrated"/>, those the firehose's cache settled with no getPosts call.</param>
public sealed record HydrationTotals(long ApiCalls, long Hydrated, long NotFound, long Errors, long SkippedCached, long Retries, long HydratedFromFirehose);
