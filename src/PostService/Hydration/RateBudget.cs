using System.Diagnostics.CodeAnalysis;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using PostService.Options;

namespace PostService.Hydration;

/// <summary>
/// The AppView call budget: at most N calls in ANY window of the configured length (a sliding log of call
/// times, so no burst at a window boundary can exceed it), further held back while the AppView has said
/// through 429 or <c>RateLimit-*</c> headers that less is left.
/// </summary>
/// <remarks>
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
    private readonly List<CallMark> _calls = [];
    private readonly Lock _lock = new();
    private readonly TimeSpan _spacing;
    private readonly TimeSpan _longestServerWait;
    private DateTimeOffset _pausedUntil = DateTimeOffset.MinValue;
    private int? _serverRemaining;
    private DateTimeOffset _serverResetAt = DateTimeOffset.MinValue;

    public RateBudget(IOptions<HydrationOptions> options, TimeProvider time)
    {
        _time = time;
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
                if (TryGrant(permitCount, out wait) is { } granted)
                {
                    return granted;
                }
                if (ServerOpensAt(permitCount) - _time.GetUtcNow() > _longestServerWait)
                {
                    return Lease.Denied(wait);
                }
            }
            await Task.Delay(wait, _time, cancellationToken);
        }
    }

    private Lease? TryGrant(int permitCount, out TimeSpan wait)
    {
        var now = _time.GetUtcNow();
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
        if (_calls.Count + permitCount > Limit)
        {
            // The oldest calls must leave the window first.
            var freeingCall = _calls.Select(call => call.At).Order().ElementAt(_calls.Count + permitCount - Limit - 1) + _spacing;
            if (freeingCall > openAt)
            {
                openAt = freeingCall;
            }
        }
        if (openAt > now)
        {
            wait = openAt - now + TimeSpan.FromMilliseconds(1);
            return null;
        }
        var marks = Enumerable.Range(0, permitCount).Select(_ => new CallMark(now)).ToArray();
        _calls.AddRange(marks);
        if (_serverRemaining is not null)
        {
            _serverRemaining -= permitCount;
        }
        wait = TimeSpan.Zero;
        return new Lease(this, marks, null);
    }

    /// <summary>When the AppView's own limits (a 429's pause, an exhausted <c>RateLimit-Remaining</c>) let a call through.</summary>
    private DateTimeOffset ServerOpensAt(int permitCount) =>
        _serverRemaining < permitCount && _serverResetAt > _pausedUntil ? _serverResetAt : _pausedUntil;

    private void Prune(DateTimeOffset now) => _calls.RemoveAll(call => call.At + _spacing <= now);

    /// <summary>The call is over: the AppView has seen it, at the latest now.</summary>
    private void Complete(CallMark[] marks)
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            foreach (var mark in marks)
            {
                mark.At = now;
            }
        }
    }

    private sealed class CallMark(DateTimeOffset at)
    {
        public DateTimeOffset At { get; set; } = at;
    }

    private sealed class Lease(RateBudget? budget, CallMark[] marks, TimeSpan? retryAfter) : RateLimitLease
    {
        private int _disposed;

        public static Lease Denied(TimeSpan retryAfter) => new(null, [], retryAfter);

        public override bool IsAcquired => budget is not null;

        protected override void Dispose(bool disposing)
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                budget?.Complete(marks);
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
