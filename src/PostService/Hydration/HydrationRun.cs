using PostService.Storage;

namespace PostService.Hydration;

/// <summary>What a run should cover: besides pending and due posts, failed ones (force) and hydrated ones (refresh).</summary>
/// <param name="RefreshOlderThan">With refresh, only posts last hydrated longer ago than this.</param>
/// <param name="Limit">Stop after attempting this many posts.</param>
public sealed record RunSpec(RunTrigger Trigger, bool Force = false, bool Refresh = false, TimeSpan? RefreshOlderThan = null, int? Limit = null);

/// <summary>A run in progress: its spec, live counters (updated from concurrent calls), and its completion.</summary>
public sealed class HydrationRun(RunSpec spec)
{
    private readonly TaskCompletionSource<HydrationRunRecord> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public RunSpec Spec { get; } = spec;

    /// <summary>Zero until the run's row exists; background runs create it only once they find work.</summary>
    public long RunId { get; set; }

    public DateTimeOffset StartedAt { get; set; }

    public HydrationRunStatus Status { get; set; } = HydrationRunStatus.Queued;

    public HydrationCounters Counters { get; } = new();

    public long Attempted => Counters[HydrationCount.Attempted];

    public bool LimitReached => Spec.Limit is { } limit && Attempted >= limit;

    public Task<HydrationRunRecord> Completion => _completion.Task;

    public HydrationRunRecord Snapshot(DateTimeOffset? finishedAt = null) => new()
    {
        RunId = RunId,
        Trigger = Spec.Trigger,
        Force = Spec.Force,
        Refresh = Spec.Refresh,
        StartedAt = DbTime.ToText(StartedAt),
        FinishedAt = finishedAt is null ? null : DbTime.ToText(finishedAt.Value),
        Status = Status,
        Attempted = Attempted,
        Hydrated = Counters[HydrationCount.Hydrated],
        NotFound = Counters[HydrationCount.NotFound],
        Errors = Counters[HydrationCount.Errors],
        SkippedCached = Counters[HydrationCount.SkippedCached],
        ApiCalls = Counters[HydrationCount.ApiCalls],
        RateLimited = Counters[HydrationCount.RateLimited],
        Retries = Counters[HydrationCount.Retries],
    };

    public void Complete(HydrationRunRecord record) => _completion.TrySetResult(record);
}
