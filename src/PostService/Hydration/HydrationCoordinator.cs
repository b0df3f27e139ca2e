using PostService.Storage;

namespace PostService.Hydration;

/// <summary>
/// Hands requested runs (<c>POST /hydrate</c>) to the worker, one at a time. Asking while a requested run is
/// queued or active returns that run: the caller wants the work done, not a conflict.
/// </summary>
public sealed class HydrationCoordinator(HydrationRunsRepository runs, TimeProvider time)
{
    private readonly SemaphoreSlim _requestGate = new(1, 1);
    private readonly SemaphoreSlim _requested = new(0);
    private readonly Lock _lock = new();
    private HydrationRun? _queued;
    private HydrationRun? _active;
    private CancellationTokenSource _yieldActive = new();

    public HydrationRun? Active
    {
        get
        {
            lock (_lock)
            {
                return _active;
            }
        }
    }

    /// <summary>The queued or active requested run, or a new one, and whether it was created by this call.</summary>
    public async Task<(HydrationRun Run, bool Created)> RequestAsync(RunSpec spec, CancellationToken cancellationToken)
    {
        await _requestGate.WaitAsync(cancellationToken);
        try
        {
            lock (_lock)
            {
                if (_queued is not null)
                {
                    return (_queued, false);
                }
                if (_active is { Spec.Trigger: RunTrigger.Manual or RunTrigger.Cli })
                {
                    return (_active, false);
                }
            }
            var run = new HydrationRun(spec) { StartedAt = time.GetUtcNow() };
            run.RunId = await runs.CreateAsync(spec.Trigger, spec.Force, spec.Refresh, DbTime.ToText(run.StartedAt), run.Status, cancellationToken);
            lock (_lock)
            {
                _queued = run;
                // A background run in progress ends early so the requested one, which covers its work too, starts now.
                _yieldActive.Cancel();
            }
            _requested.Release();
            return (run, true);
        }
        finally
        {
            _requestGate.Release();
        }
    }

    /// <summary>The worker's next run: a requested one if any, else a background run with <paramref name="backgroundTrigger"/>.</summary>
    public (HydrationRun Run, CancellationToken YieldToken) BeginNext(RunTrigger backgroundTrigger)
    {
        lock (_lock)
        {
            _active = _queued ?? new HydrationRun(new RunSpec(backgroundTrigger));
            _queued = null;
            _yieldActive.Dispose();
            _yieldActive = new CancellationTokenSource();
            return (_active, _active.Spec.Trigger == backgroundTrigger ? _yieldActive.Token : CancellationToken.None);
        }
    }

    public void End(HydrationRun run)
    {
        lock (_lock)
        {
            if (ReferenceEquals(_active, run))
            {
                _active = null;
            }
        }
    }

    public bool HasQueued
    {
        get
        {
            lock (_lock)
            {
                return _queued is not null;
            }
        }
    }

    /// <summary>Completes when a run is requested.</summary>
    public Task WaitForRequestAsync(CancellationToken cancellationToken) => _requested.WaitAsync(cancellationToken);
}
