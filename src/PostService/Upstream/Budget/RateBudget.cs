using System.Diagnostics.CodeAnalysis;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using PostService.Hydration;

namespace PostService.Upstream.Budget;

/// <summary>
/// The AppView call budget: at most N calls in ANY window of the configured length (a sliding log of call
/// times, so no burst at a window boundary can exceed it), further held back while the AppView has said
/// through 429 or <c>RateLimit-*</c> headers that less is left.
/// </summary>
/// <remarks>
/// On PostgreSQL the log is <see cref="AppViewCallLog"/>, shared by every replica on the database, so that together
/// they stay within one budget; this process's own log then only feeds its statistics.
/// A call is logged at its grant and moved to its completion when its lease is disposed: the AppView saw it
/// somewhere in between, and a slow first call (connection set-up) must not let its successor one window later
/// arrive less than a window after it.
/// A wait the AppView imposed that is longer than <see cref="HydrationOptions.MaxRateLimitWaitSeconds"/> is not
/// waited out: <see cref="RateLimiter.AcquireAsync"/> then returns a lease that is not acquired, with the wait as
/// its <see cref="MetadataName.RetryAfter"/>, so the caller can reschedule instead of holding its work for an hour.
/// </remarks>
public sealed class RateBudget : RateLimiter
{
    private readonly TimeProvider _time;
    private readonly AppViewCallLog? _sharedLog;
    private readonly string _replicaId;
    private readonly ILogger<RateBudget>? _logger;
    private readonly List<CallMark> _calls = [];
    private readonly Lock _lock = new();
    private readonly TimeSpan _spacing;
    private readonly TimeSpan _longestServerWait;
    private DateTimeOffset _pausedUntil = DateTimeOffset.MinValue;
    private int? _serverRemaining;
    private DateTimeOffset _serverResetAt = DateTimeOffset.MinValue;

    public RateBudget(IOptions<HydrationOptions> options, TimeProvider time, AppViewCallLog? sharedLog = null, ILogger<RateBudget>? logger = null)
    {
        _time = time;
        _sharedLog = sharedLog;
        _replicaId = options.Value.ReplicaId;
        _logger = logger;
        Limit = options.Value.BudgetCalls;
        Window = TimeSpan.FromSeconds(options.Value.BudgetWindowSeconds);
        _longestServerWait = TimeSpan.FromSeconds(options.Value.MaxRateLimitWaitSeconds);
        // Calls reach the AppView with varying delay, so two calls granted exactly one window apart may arrive
        // closer together; 1% of the window (at least 100 ms) absorbs that.
        _spacing = Window + TimeSpan.FromTicks(Math.Max(Window.Ticks / 100, TimeSpan.TicksPerMillisecond * 100));
    }

    public int Limit { get; }

    public TimeSpan Window { get; }

    /// <summary>Calls granted within the last window.</summary>
    public int UsedInWindow
    {
        get
        {
            lock (_lock)
            {
                Prune(_time.GetUtcNow());
                return _calls.Count;
            }
        }
    }

    public DateTimeOffset PausedUntil
    {
        get
        {
            lock (_lock)
            {
                return _pausedUntil;
            }
        }
    }

    public override TimeSpan? IdleDuration => null;

    /// <summary>The AppView answered 429: no call before <paramref name="until"/>.</summary>
    public void PauseUntil(DateTimeOffset until)
    {
        lock (_lock)
        {
            if (until > _pausedUntil)
            {
                _pausedUntil = until;
            }
        }
        if (_sharedLog is not null)
        {
            ShareInBackground(token => _sharedLog.PauseUntilAsync(until, token), "pause");
        }
    }

    /// <summary>The AppView's own count: only <paramref name="remaining"/> calls are left until <paramref name="resetAt"/>.</summary>
    public void ObserveServerBudget(int remaining, DateTimeOffset resetAt)
    {
        lock (_lock)
        {
            _serverRemaining = Math.Max(0, remaining);
            _serverResetAt = resetAt;
        }
    }

    public override RateLimiterStatistics GetStatistics()
    {
        lock (_lock)
        {
            Prune(_time.GetUtcNow());
            return new RateLimiterStatistics { CurrentAvailablePermits = Math.Max(0, Limit - _calls.Count) };
        }
    }

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        if (_sharedLog is not null)
        {
            // Only the shared log can grant, and asking it takes a round trip: callers must wait for AcquireAsync.
            return Lease.Denied(TimeSpan.Zero);
        }
        lock (_lock)
        {
            return TryGrant(permitCount, out var wait) is { } granted ? granted : Lease.Denied(wait);
        }
    }

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        if (permitCount > Limit)
        {
            throw new ArgumentOutOfRangeException(nameof(permitCount), $"The budget allows at most {Limit} calls per window.");
        }
        while (true)
        {
            TimeSpan wait;
            lock (_lock)
            {
                if (_sharedLog is null)
                {
                    if (TryGrant(permitCount, out wait) is { } granted)
                    {
                        return granted;
                    }
                }
                else
                {
                    wait = HeldBackBy(_time.GetUtcNow(), permitCount, countOwnCalls: false);
                }
                if (ServerOpensAt(permitCount) - _time.GetUtcNow() > _longestServerWait)
                {
                    return Lease.Denied(wait);
                }
            }
            if (_sharedLog is not null && wait <= TimeSpan.Zero)
            {
                var shared = await _sharedLog.TryAcquireAsync(_replicaId, permitCount, Limit, _spacing, cancellationToken);
                if (shared.Granted)
                {
                    lock (_lock)
                    {
                        return Grant(_time.GetUtcNow(), permitCount, shared.CallIds);
                    }
                }
                wait = shared.Wait;
            }
            await Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.FromMilliseconds(1), _time, cancellationToken);
        }
    }

    private Lease? TryGrant(int permitCount, out TimeSpan wait)
    {
        var now = _time.GetUtcNow();
        wait = HeldBackBy(now, permitCount, countOwnCalls: true);
        return wait > TimeSpan.Zero ? null : Grant(now, permitCount, []);
    }

    /// <summary>How long until <paramref name="permitCount"/> calls may start; zero when they may now.</summary>
    private TimeSpan HeldBackBy(DateTimeOffset now, int permitCount, bool countOwnCalls)
    {
        Prune(now);
        if (now >= _serverResetAt)
        {
            _serverRemaining = null;
        }
        var openAt = ServerOpensAt(permitCount);
        if (now > openAt)
        {
            openAt = now;
        }
        if (countOwnCalls && _calls.Count + permitCount > Limit)
        {
            // The oldest calls must leave the window first.
            var freeingCall = _calls.Select(call => call.At).Order().ElementAt(_calls.Count + permitCount - Limit - 1) + _spacing;
            if (freeingCall > openAt)
            {
                openAt = freeingCall;
            }
        }
        return openAt > now ? openAt - now + TimeSpan.FromMilliseconds(1) : TimeSpan.Zero;
    }

    private Lease Grant(DateTimeOffset now, int permitCount, IReadOnlyList<long> sharedCallIds)
    {
        var marks = Enumerable.Range(0, permitCount).Select(_ => new CallMark(now)).ToArray();
        _calls.AddRange(marks);
        if (_serverRemaining is not null)
        {
            _serverRemaining -= permitCount;
        }
        return new Lease(this, marks, sharedCallIds, null);
    }

    /// <summary>When the AppView's own limits (a 429's pause, an exhausted <c>RateLimit-Remaining</c>) let a call through.</summary>
    private DateTimeOffset ServerOpensAt(int permitCount) =>
        _serverRemaining < permitCount && _serverResetAt > _pausedUntil ? _serverResetAt : _pausedUntil;

    private void Prune(DateTimeOffset now) => _calls.RemoveAll(call => call.At + _spacing <= now);

    /// <summary>The call is over: the AppView has seen it, at the latest now.</summary>
    private void Complete(CallMark[] marks, IReadOnlyList<long> sharedCallIds)
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            foreach (var mark in marks)
            {
                mark.At = now;
            }
        }
        if (_sharedLog is not null && sharedCallIds.Count > 0)
        {
            ShareInBackground(token => _sharedLog.FinishAsync(sharedCallIds, token), "finish");
        }
    }

    /// <summary>
    /// Tells the shared log without holding up the caller (a lease is disposed synchronously). If it fails, the log
    /// errs on the safe side: an unfinished call counts until it could have timed out, a missed pause costs a 429.
    /// </summary>
    private void ShareInBackground(Func<CancellationToken, Task> write, string what) =>
        _ = Task.Run(async () =>
        {
            try
            {
                await write(CancellationToken.None);
            }
            catch (Exception exception)
            {
                _logger?.LogWarning(exception, "Could not record a budget {What} in the shared call log", what);
            }
        });

    private sealed class CallMark(DateTimeOffset at)
    {
        public DateTimeOffset At { get; set; } = at;
    }

    private sealed class Lease(RateBudget? budget, CallMark[] marks, IReadOnlyList<long> sharedCallIds, TimeSpan? retryAfter) : RateLimitLease
    {
        private int _disposed;

        public static Lease Denied(TimeSpan retryAfter) => new(null, [], [], retryAfter);

        public override bool IsAcquired => budget is not null;

        protected override void Dispose(bool disposing)
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                budget?.Complete(marks, sharedCallIds);
            }
        }

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, [NotNullWhen(true)] out object? metadata)
        {
            metadata = retryAfter;
            return retryAfter is not null && metadataName == MetadataName.RetryAfter.Name;
        }
    }
}
