using System.Threading.Channels;
using Microsoft.Extensions.Options;
using PostService.Storage;

namespace PostService.Hydration;

/// <summary>
/// The run loop: takes URIs from the hint queue and from database sweeps and hands them to <see cref="BatchDispatcher"/>,
/// which claims the due ones in batches with several calls in flight; then records the run. New URIs come first, then
/// due retries, then scheduled refreshes, a batch at a time, so that refreshes use only the budget the others leave. Used by the background worker and the CLI.
/// </summary>
public sealed class HydrationEngine(
    HydrationRepository posts,
    HydrationRunsRepository runs,
    BatchDispatcher dispatcher,
    ClaimLeases leases,
    HintBatches hintBatches,
    AppViewPause pause,
    IOptions<HydrationOptions> options,
    TimeProvider time,
    ILogger<HydrationEngine> logger)
{
    private readonly HydrationOptions _options = options.Value;

    /// <summary>
    /// Runs until the hints are drained and the sweep finds nothing more (or the limit is reached), then waits for
    /// the calls in flight. <paramref name="yieldToken"/> ends the run early but cleanly (no new calls; the calls in
    /// flight finish and are recorded), to let another one start or the process stop. A pause asked for by the AppView
    /// that is too long to wait out ends the run too, leaving the posts not yet fetched due (see <see cref="AppViewPause"/>).
    /// </summary>
    public async Task<HydrationRunRecord> RunAsync(
        HydrationRun run, ChannelReader<string>? hints, CancellationToken yieldToken, CancellationToken cancellationToken)
    {
        run.StartedAt = time.GetUtcNow();
        run.Status = HydrationRunStatus.Running;
        if (run.RunId != 0)
        {
            await runs.SaveAsync(run.Snapshot(), cancellationToken);
        }
        var batches = new RunBatches(run, SelectionFor(run.Spec, run.StartedAt), yieldToken, cancellationToken);
        using var renewing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var renewal = leases.KeepAliveAsync(renewing.Token);
        try
        {
            bool refreshing;
            do
            {
                while (hints is not null && !yieldToken.IsCancellationRequested
                    && await hintBatches.NextAsync(hints, cancellationToken) is { Count: > 0 } hinted && await dispatcher.SubmitAsync(batches, hinted))
                {
                }
                await SweepAsync(batches);
                // New URIs and due retries come first: scheduled refreshes get one batch at a time, then those are looked at again.
                refreshing = await RefreshBatchAsync(batches);
            }
            while ((hints is { Count: > 0 } || refreshing) && !run.LimitReached && !yieldToken.IsCancellationRequested && !pause.HoldsRuns);
            await Task.WhenAll(batches.Calls);
            // Calls cut short by cancellation end quietly: a run whose last calls were cancelled did not complete.
            cancellationToken.ThrowIfCancellationRequested();
            run.Status = HydrationRunStatus.Completed;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Calls cut short leave their posts as they were; nothing is half-written.
            await Task.WhenAll(batches.Calls);
            run.Status = HydrationRunStatus.Cancelled;
        }
        finally
        {
            await renewing.CancelAsync();
            await renewal;
            await leases.ReleaseAllAsync();
        }
        return await FinishAsync(run);
    }

    /// <summary>How many posts a run of <paramref name="spec"/> starting now would attempt, for a progress display.</summary>
    public async Task<long> CountDueAsync(RunSpec spec, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var due = await posts.CountDueAsync(SelectionFor(spec, now), now, cancellationToken);
        return spec.Limit is { } limit ? Math.Min(due, limit) : due;
    }

    private WorkSelection SelectionFor(RunSpec spec, DateTimeOffset startedAt) =>
        new(spec.Force, spec.Refresh, spec.RefreshOlderThan is { } age ? DbTime.ToText(startedAt - age) : null,
            _options.MaxAttempts, DbTime.ToText(startedAt));

    private async Task<HydrationRunRecord> FinishAsync(HydrationRun run)
    {
        var record = run.Snapshot(time.GetUtcNow());
        if (run.RunId != 0)
        {
            await runs.SaveAsync(record, CancellationToken.None);
            logger.LogInformation(
                "Hydration run {RunId} ({Trigger}{Force}) {Status}: attempted {Attempted}, hydrated {Hydrated}, not found {NotFound}, " +
                "errors {Errors}, skipped cached {SkippedCached}, API calls {ApiCalls}, rate limited {RateLimited}, retries {Retries}",
                record.RunId, EnumText<RunTrigger>.Of(record.Trigger), record.Force ? ", force" : "", EnumText<HydrationRunStatus>.Of(record.Status),
                record.Attempted, record.Hydrated, record.NotFound, record.Errors, record.SkippedCached, record.ApiCalls, record.RateLimited, record.Retries);
        }
        run.Complete(record);
        return record;
    }

    /// <summary>Sends one batch of the posts whose scheduled refresh has come; false when none was due (or the run must stop).</summary>
    private async Task<bool> RefreshBatchAsync(RunBatches batches)
    {
        if (batches.YieldToken.IsCancellationRequested)
        {
            return false;
        }
        var due = await posts.SelectRefreshesAsync(batches.Selection, _options.BatchSize, time.GetUtcNow(), batches.CancellationToken);
        return due.Count > 0 && await dispatcher.SubmitAsync(batches, due);
    }

    private async Task SweepAsync(RunBatches batches)
    {
        foreach (var status in batches.Selection.Statuses)
        {
            var after = 0L;
            while (!batches.YieldToken.IsCancellationRequested)
            {
                var page = await posts.SelectWorkAsync(batches.Selection, status, after, _options.SweepPageSize, time.GetUtcNow(), batches.CancellationToken);
                if (page.Count == 0)
                {
                    break;
                }
                if (!await dispatcher.SubmitAsync(batches, page.Select(post => post.PostUri).ToList()))
                {
                    return;
                }
                after = page[^1].Position;
                if (page.Count < _options.SweepPageSize)
                {
                    break;
                }
            }
        }
    }
}
