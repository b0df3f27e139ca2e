using Microsoft.Extensions.Options;
using PostService.Posts;
using PostService.Storage;

namespace PostService.Hydration;

/// <summary>
/// Turns a run's candidate URIs into claimed batches, each hydrated by <see cref="BatchHydrator"/> with several calls in
/// flight (the rate budget, not latency, caps throughput). The same URI is never in two calls at once.
/// </summary>
public sealed class BatchDispatcher(
    HydrationRepository posts,
    HydrationRunsRepository runs,
    BatchHydrator hydrator,
    CallsInFlight calls,
    ClaimLeases leases,
    AppViewPause pause,
    HydrationMetrics metrics,
    IOptions<HydrationOptions> options,
    TimeProvider time)
{
    private readonly int _batchSize = options.Value.BatchSize;

    /// <summary>Sends the candidates that are due, in claimed batches; false once the run's limit is reached or it must stop.</summary>
    public async Task<bool> SubmitAsync(RunBatches batches, IReadOnlyList<string> candidates)
    {
        var (run, cancellationToken) = (batches.Run, batches.CancellationToken);
        if (pause.HoldsRuns)
        {
            return false;
        }
        // A URI in flight is being settled by its call; checking state only after it leaves keeps the check true.
        var fresh = candidates.Distinct(StringComparer.Ordinal).Where(uri => !calls.Carries(uri)).ToList();
        if (fresh.Count == 0)
        {
            return true;
        }
        var states = await posts.SelectDueAsync(fresh, batches.Selection, time.GetUtcNow(), cancellationToken);
        var due = fresh.Where(uri => states.TryGetValue(uri, out var state) && state.IsDue).ToList();
        var cached = fresh.Count(uri => states.TryGetValue(uri, out var state) && !state.IsDue
            && state.HydrationStatus is HydrationStatus.Ok or HydrationStatus.NotFound);
        metrics.Count(run, HydrationCount.SkippedCached, cached);

        foreach (var chunk in due.Chunk(_batchSize))
        {
            var room = run.Spec.Limit is { } limit ? limit - run.Attempted : long.MaxValue;
            if (room <= 0)
            {
                return false;
            }
            var slot = await calls.WaitForSlotAsync(cancellationToken);
            // Waiting for a slot can take a whole call: the run may have been told to stop, or paused, meanwhile.
            if (batches.YieldToken.IsCancellationRequested || pause.HoldsRuns)
            {
                slot.Dispose();
                return false;
            }
            string[] batch;
            try
            {
                batch = await ClaimAsync(batches, chunk.Take((int)Math.Min(room, chunk.Length)).ToList());
            }
            catch
            {
                slot.Dispose();
                throw;
            }
            if (batch.Length == 0)
            {
                slot.Dispose();
                continue;
            }
            calls.Carry(batch);
            metrics.Count(run, HydrationCount.Attempted, batch.Length);
            batches.Start(HydrateAsync(run, batch, slot, cancellationToken));
        }
        return !run.LimitReached;
    }

    /// <summary>Another process may have taken some of these since they were read: only what this one claims is sent.</summary>
    private async Task<string[]> ClaimAsync(RunBatches batches, IReadOnlyList<string> uris)
    {
        var now = time.GetUtcNow();
        var claimed = await posts.ClaimAsync(uris, batches.Selection, leases.ReplicaId, now, leases.ClaimedUntil(now), batches.CancellationToken);
        if (claimed.Count > 0 && batches.Run.RunId == 0)
        {
            var run = batches.Run;
            run.RunId = await runs.CreateAsync(run.Spec.Trigger, run.Spec.Force, run.Spec.Refresh, DbTime.ToText(run.StartedAt), run.Status,
                batches.CancellationToken);
        }
        return claimed.Order(StringComparer.Ordinal).ToArray();
    }

    private async Task HydrateAsync(HydrationRun run, string[] batch, IDisposable slot, CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            await hydrator.HydrateAsync(run, batch, cancellationToken);
        }
        finally
        {
            calls.Drop(batch);
            slot.Dispose();
        }
    }
}

/// <summary>One run's selection, its stop signals, and the batches it has started.</summary>
public sealed record RunBatches(HydrationRun Run, WorkSelection Selection, CancellationToken YieldToken, CancellationToken CancellationToken)
{
    public List<Task> Calls { get; } = [];

    public void Start(Task call)
    {
        Calls.RemoveAll(started => started.IsCompleted);
        Calls.Add(call);
    }
}
