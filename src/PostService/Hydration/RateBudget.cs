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
public sealed class RateBudget : RateLimiter
{
    private readonly TimeProvider _time;
    private readonly Queue<DateTimeOffset> _granted = new();
    private readonly Lock _lock = new();
    private readonly TimeSpan _spacing;
    private DateTimeOffset _pausedUntil = DateTimeOffset.MinValue;
    private int? _serverRemaining;
    private DateTimeOffset _serverResetAt = DateTimeOffset.MinValue;

    public RateBudget(IOptions<HydrationOptions> options, TimeProvider time)
    {
        _time = time;
        Limit = options.Value.BudgetCalls;
        Window = TimeSpan.FromSeconds(options.Value.BudgetWindowSeconds);
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
                return _granted.Count;
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
            return new RateLimiterStatistics { CurrentAvailablePermits = Math.Max(0, Limit - _granted.Count) };
        }
    }

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        lock (_lock)
        {
            return TryGrant(permitCount, out var wait) ? Lease.Granted : Lease.Denied(wait);
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
                if (TryGrant(permitCount, out wait))
                {
                    return Lease.Granted;
                }
            }
            await Task.Delay(wait, _time, cancellationToken);
        }
    }

    private bool TryGrant(int permitCount, out TimeSpan wait)
    {
        var now = _time.GetUtcNow();
        Prune(now);
        if (now >= _serverResetAt)
        {
            _serverRemaining = null;
        }
        var openAt = now;
        if (_pausedUntil > openAt)
        {
            openAt = _pausedUntil;
        }
        if (_serverRemaining < permitCount && _serverResetAt > openAt)
        {
            openAt = _serverResetAt;
        }
        if (_granted.Count + permitCount > Limit)
        {
            // The oldest calls must leave the window first.
            var freeingCall = _granted.ElementAt(_granted.Count + permitCount - Limit - 1) + _spacing;
            if (freeingCall > openAt)
            {
                openAt = freeingCall;
            }
        }
        if (openAt > now)
        {
            wait = openAt - now + TimeSpan.FromMilliseconds(1);
            return false;
        }
        for (var i = 0; i < permitCount; i++)
        {
            _granted.Enqueue(now);
        }
        if (_serverRemaining is not null)
        {
            _serverRemaining -= permitCount;
        }
        wait = TimeSpan.Zero;
        return true;
    }

    private void Prune(DateTimeOffset now)
    {
        while (_granted.Count > 0 && _granted.Peek() + _spacing <= now)
        {
            _granted.Dequeue();
        }
    }

    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public static readonly Lease Granted = new(true, null);

        public static Lease Denied(TimeSpan retryAfter) => new(false, retryAfter);

        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, [NotNullWhen(true)] out object? metadata)
        {
            metadata = retryAfter;
            return retryAfter is not null && metadataName == MetadataName.RetryAfter.Name;
        }
    }
}
