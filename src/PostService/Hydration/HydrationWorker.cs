using Microsoft.Extensions.Options;

namespace PostService.Hydration;

/// <summary>
/// The background consumer. At start, and whenever the hint queue runs dry, it sweeps the database, so a URI
/// acknowledged by ingestion is hydrated even if the process died before it was queued. Between runs it sleeps
/// until a URI is queued, a run is requested, or a failed post's retry time or an ok post's scheduled refresh comes (or, after the AppView asked for
/// a long pause, until the pause ends or a run is requested). On shutdown it sends no new calls but lets the calls in
/// flight finish and records their results, within the host's shutdown timeout (the grace period).
/// </summary>
public sealed class HydrationWorker(
    HydrationEngine engine,
    AppViewPause pause,
    HydrationQueue queue,
    HydrationCoordinator coordinator,
    HydrationRepository posts,
    HydrationRunsRepository runs,
    CoverageQueries coverage,
    IOptions<HydrationOptions> options,
    TimeProvider time,
    ILogger<HydrationWorker> logger) : BackgroundService
{
    private static readonly TimeSpan PauseAfterFailure = TimeSpan.FromSeconds(5);

    /// <summary>Cancelled when the grace period is over: calls still in flight then are abandoned.</summary>
    private readonly CancellationTokenSource _graceOver = new();

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // The host cancels this token when its shutdown timeout (the grace period) runs out.
        await using (cancellationToken.Register(_graceOver.Cancel))
        {
            await base.StopAsync(CancellationToken.None);
        }
    }

    public override void Dispose()
    {
        _graceOver.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interrupted = await runs.MarkInterruptedAsync(time.GetUtcNow(), stoppingToken);
        if (interrupted > 0)
        {
            logger.LogWarning("{Count} hydration runs were left unfinished by an earlier process and are marked interrupted", interrupted);
        }
        var trigger = RunTrigger.Startup;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var (run, yieldToken) = coordinator.BeginNext(trigger);
                using var yieldOrStop = CancellationTokenSource.CreateLinkedTokenSource(yieldToken, stoppingToken);
                try
                {
                    await engine.RunAsync(run, queue.Reader, yieldOrStop.Token, _graceOver.Token);
                }
                finally
                {
                    coordinator.End(run);
                }
                trigger = RunTrigger.Ingest;
                // Keeps the PostgreSQL count log short even when nobody reads coverage.
                await coverage.FoldCountsAsync(stoppingToken);
                if (!coordinator.HasQueued)
                {
                    trigger = await WaitForWorkAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested || _graceOver.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception)
            {
                // The database may be briefly unavailable; the worker itself must outlive that.
                logger.LogError(exception, "Hydration worker failed; trying again in {Delay}", PauseAfterFailure);
                await Task.Delay(PauseAfterFailure, time, stoppingToken);
            }
        }
    }

    /// <summary>Waits as the class says; the trigger of the run that follows: <c>ingest</c> when URIs were queued, else <c>schedule</c>.</summary>
    private async Task<RunTrigger> WaitForWorkAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(options.Value.SweepIntervalSeconds);
        var untilResume = pause.ResumeAt - time.GetUtcNow();
        if (untilResume > TimeSpan.Zero)
        {
            // Paused by the AppView: new URIs wait in the database; only a requested run or the pause's end wakes us.
            interval = untilResume;
        }
        else if (await posts.EarliestDueAsync(options.Value.MaxAttempts, stoppingToken) is { } dueAt)
        {
            var untilDue = dueAt - time.GetUtcNow();
            interval = untilDue < interval ? (untilDue > TimeSpan.Zero ? untilDue : TimeSpan.Zero) : interval;
        }
        using var wake = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var queued = untilResume > TimeSpan.Zero
            ? Task.Delay(Timeout.InfiniteTimeSpan, wake.Token)
            : queue.Reader.WaitToReadAsync(wake.Token).AsTask();
        var requested = coordinator.WaitForRequestAsync(wake.Token);
        var timer = Task.Delay(interval, time, wake.Token);
        await Task.WhenAny(queued, requested, timer);
        await wake.CancelAsync();
        // A request signal consumed here is not lost: the queued run is picked up by the next BeginNext.
        await Task.WhenAll(queued, requested, timer).ContinueWith(_ => { }, TaskScheduler.Default);
        stoppingToken.ThrowIfCancellationRequested();
        return queue.Depth > 0 ? RunTrigger.Ingest : RunTrigger.Schedule;
    }
}
