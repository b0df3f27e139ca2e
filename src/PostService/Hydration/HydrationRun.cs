using PostService.Storage;

namespace PostService.Hydration;

public static class RunTrigger
{
    public const string Startup = "startup";
    public const string Ingest = "ingest";
    public const string Manual = "manual";
    public const string Cli = "cli";
}

/// <summary>What a run should cover: besides pending and due posts, failed ones (force) and hydrated ones (refresh).</summary>
/// <param name="RefreshOlderThan">With refresh, only posts last hydrated longer ago than this.</param>
/// <param name="Limit">Stop after attempting this many posts.</param>
public sealed record RunSpec(string Trigger, bool Force = false, bool Refresh = false, TimeSpan? RefreshOlderThan = null, int? Limit = null);

/// <summary>A run in progress: its spec, live counters (updated from concurrent calls), and its completion.</summary>
public sealed class HydrationRun(RunSpec spec)
{
    private long _attempted, _hydrated, _notFound, _errors, _skippedCached, _apiCalls, _rateLimited, _retries;
    private readonly TaskCompletionSource<HydrationRunRecord> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public RunSpec Spec { get; } = spec;

    /// <summary>Zero until the run's row exists; background runs create it only once they find work.</summary>
    public long RunId { get; set; }

    public DateTimeOffset StartedAt { get; set; }

    public string Status { get; set; } = "queued";

    public long Attempted => Interlocked.Read(ref _attempted);

    public Task<HydrationRunRecord> Completion => _completion.Task;

    public void AddAttempted(int count) => Interlocked.Add(ref _attempted, count);
    public void AddHydrated(int count) => Interlocked.Add(ref _hydrated, count);
    public void AddNotFound(int count) => Interlocked.Add(ref _notFound, count);
    public void AddErrors(int count) => Interlocked.Add(ref _errors, count);
    public void AddSkippedCached(int count) => Interlocked.Add(ref _skippedCached, count);
    public void AddApiCalls(int calls, int retries)
    {
        Interlocked.Add(ref _apiCalls, calls);
        Interlocked.Add(ref _retries, retries);
    }
    public void AddRateLimited() => Interlocked.Increment(ref _rateLimited);

    /// <summary>True when the run did anything worth a row in the run log.</summary>
    public bool HasActivity => Attempted > 0 || Interlocked.Read(ref _skippedCached) > 0;

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
        Hydrated = Interlocked.Read(ref _hydrated),
        NotFound = Interlocked.Read(ref _notFound),
        Errors = Interlocked.Read(ref _errors),
        SkippedCached = Interlocked.Read(ref _skippedCached),
        ApiCalls = Interlocked.Read(ref _apiCalls),
        RateLimited = Interlocked.Read(ref _rateLimited),
        Retries = Interlocked.Read(ref _retries),
    };

    public void Complete(HydrationRunRecord record) => _completion.TrySetResult(record);

    public void Fail(Exception exception) => _completion.TrySetException(exception);
}
