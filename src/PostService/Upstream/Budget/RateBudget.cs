using System.Diagnostics.CodeAnalysis;
using System.Threading.RateLimiting;

namespace PostService.Upstream.Budget;

/// <summary>
/// The AppView call budget: at most N calls in ANY window of the configured length (a sliding log of call
/// times, so no burst at a window boundary can exceed it), further held back while the AppView has said
/// through 429 or <c>RateLimit-*</c> headers that less is left.
/// </summary>
/// <remarks>
/// Two kinds, chosen once at start: <see cref="LocalRateBudget"/> keeps the log in this process,
/// <see cref="SharedRateBudget"/> in PostgreSQL for every replica on the database. What the AppView says (a pause, its
/// own remaining count) and this process's own log (for statistics) live here, in both.
/// A call is logged at its grant and moved to its completion when its lease is disposed: the AppView saw it
/// somewhere in between, and a slow first call (connection set-up) must not let its successor one window later
/// arrive less than a window after it.
/// A wait the AppView imposed that is longer than <see cref="RateBudgetOptions.MaxRateLimitWaitSeconds"/> is not
/// waited out: <see cref="RateLimiter.AcquireAsync"/> then returns a lease that is not acquired, with the wait as
/// its <see cref="MetadataName.RetryAfter"/>, so the caller can reschedule instead of holding its work for an hour.
/// </remarks>
public abstract class RateBudget : RateLimiter
{
    private readonly List<CallMark> _calls = [];
    private readonly TimeSpan _longestServerWait;
    private DateTimeOffset _pausedUntil = DateTimeOffset.MinValue;
    private int? _serverRemaining;
    private DateTimeOffset _serverResetAt = DateTimeOffset.MinValue;

    protected RateBudget(RateBudgetOptions options, TimeProvider time)
    {
        Time = time;
        Limit = options.BudgetCalls;
        Window = TimeSpan.FromSeconds(options.BudgetWindowSeconds);
        _longestServerWait = TimeSpan.FromSeconds(options.MaxRateLimitWaitSeconds);
        // Calls reach the AppView with varying delay, so two calls granted exactly one window apart may arrive
        // closer together; 1% of the window (at least 100 ms) absorbs that.
        Spacing = Window + TimeSpan.FromTicks(Math.Max(Window.Ticks / 100, TimeSpan.TicksPerMillisecond * 100));
    }

    public int Limit { get; }

    public TimeSpan Window { get; }

    /// <summary>Calls granted within the last window, by this process.</summary>
    public int UsedInWindow
    {
        get
        {
            lock (Gate)
            {
                Prune(Time.GetUtcNow());
                return _calls.Count;
            }
        }
    }

    /// <summary>Until when the AppView has asked this process (through a 429) to send nothing.</summary>
    public DateTimeOffset PausedUntil
    {
        get
        {
            lock (Gate)
            {
                return _pausedUntil;
            }
        }
    }

    public override TimeSpan? IdleDuration => null;

    protected TimeProvider Time { get; }

    /// <summary>How long a call counts after it finished: the window and a margin for arrival jitter.</summary>
    protected TimeSpan Spacing { get; }

    /// <summary>Guards this process's log and what the AppView said.</summary>
    protected Lock Gate { get; } = new();

    /// <summary>The AppView answered 429: no call before <paramref name="until"/>.</summary>
    public void PauseUntil(DateTimeOffset until)
    {
        lock (Gate)
        {
            if (until > _pausedUntil)
            {
                _pausedUntil = until;
            }
        }
        OnPaused(until);
    }

    /// <summary>The AppView's own count: only <paramref name="remaining"/> calls are left until <paramref name="resetAt"/>.</summary>
    public void ObserveServerBudget(int remaining, DateTimeOffset resetAt)
    {
        lock (Gate)
        {
            _serverRemaining = Math.Max(0, remaining);
            _serverResetAt = resetAt;
        }
    }

    public override RateLimiterStatistics GetStatistics()
    {
        lock (Gate)
        {
            Prune(Time.GetUtcNow());
            return new RateLimiterStatistics { CurrentAvailablePermits = Math.Max(0, Limit - _calls.Count) };
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
            var decision = await DecideAsync(permitCount, cancellationToken);
            if (decision.Lease is { } lease)
            {
                return lease;
            }
            await Task.Delay(decision.Wait > TimeSpan.Zero ? decision.Wait : TimeSpan.FromMilliseconds(1), Time, cancellationToken);
        }
    }

    /// <summary>One look at the budget: a lease (granted, or refused for a long pause), or how long to wait before looking again.</summary>
    protected abstract ValueTask<BudgetDecision> DecideAsync(int permitCount, CancellationToken cancellationToken);

    /// <summary>How long this process's own log holds <paramref name="permitCount"/> calls back; called under <see cref="Gate"/>.</summary>
    protected virtual TimeSpan OwnLogWait(DateTimeOffset now, int permitCount) => TimeSpan.Zero;

    /// <summary>Tells others about a pause; the local budget has no one to tell.</summary>
    protected virtual void OnPaused(DateTimeOffset until)
    {
    }

    /// <summary>
    /// Under <see cref="Gate"/>: refused when the AppView's own limits hold calls back longer than we wait; otherwise
    /// the wait until <paramref name="permitCount"/> calls may start (zero: now) by those limits and the own log.
    /// </summary>
    protected BudgetDecision Look(DateTimeOffset now, int permitCount)
    {
        Prune(now);
        if (now >= _serverResetAt)
        {
            _serverRemaining = null;
        }
        var serverOpensAt = ServerOpensAt(permitCount);
        var openAt = serverOpensAt > now ? serverOpensAt : now;
        var ownWait = OwnLogWait(now, permitCount);
        if (now + ownWait > openAt)
        {
            openAt = now + ownWait;
        }
        var wait = openAt > now ? openAt - now + TimeSpan.FromMilliseconds(1) : TimeSpan.Zero;
        return serverOpensAt - now > _longestServerWait
            ? new BudgetDecision(Lease.Denied(wait), wait)
            : new BudgetDecision(null, wait);
    }

    /// <summary>Under <see cref="Gate"/>: logs the calls; <paramref name="finished"/> runs once when their lease is disposed.</summary>
    protected RateLimitLease Grant(DateTimeOffset now, int permitCount, Action? finished = null)
    {
        var marks = Enumerable.Range(0, permitCount).Select(_ => new CallMark(now)).ToArray();
        _calls.AddRange(marks);
        if (_serverRemaining is not null)
        {
            _serverRemaining -= permitCount;
        }
        return new Lease(this, marks, finished, null);
    }

    /// <summary>The lease of a call that may not start yet, with how long to wait.</summary>
    protected static RateLimitLease Denied(TimeSpan retryAfter) => Lease.Denied(retryAfter);

    /// <summary>Under <see cref="Gate"/>: how long until the oldest calls of this process's log leave the window and make room.</summary>
    protected TimeSpan UntilOwnLogHasRoom(DateTimeOffset now, int permitCount)
    {
        var excess = _calls.Count + permitCount - Limit;
        if (excess <= 0)
        {
            return TimeSpan.Zero;
        }
        var room = _calls.Select(call => call.At).Order().ElementAt(excess - 1) + Spacing;
        return room > now ? room - now : TimeSpan.Zero;
    }

    /// <summary>When the AppView's own limits (a 429's pause, an exhausted <c>RateLimit-Remaining</c>) let a call through.</summary>
    private DateTimeOffset ServerOpensAt(int permitCount) =>
        _serverRemaining < permitCount && _serverResetAt > _pausedUntil ? _serverResetAt : _pausedUntil;

    private void Prune(DateTimeOffset now) => _calls.RemoveAll(call => call.At + Spacing <= now);

    /// <summary>The call is over: the AppView has seen it, at the latest now.</summary>
    private void Complete(CallMark[] marks, Action? finished)
    {
        lock (Gate)
        {
            var now = Time.GetUtcNow();
            foreach (var mark in marks)
            {
                mark.At = now;
            }
        }
        finished?.Invoke();
    }

    /// <summary>A look at the budget: <see cref="Lease"/> is set when the answer is final, otherwise wait <see cref="Wait"/>.</summary>
    protected readonly record struct BudgetDecision(RateLimitLease? Lease, TimeSpan Wait)
    {
        /// <summary>Nothing holds the calls back.</summary>
        public bool MayGo => Lease is null && Wait <= TimeSpan.Zero;

        public static BudgetDecision Granted(RateLimitLease lease) => new(lease, TimeSpan.Zero);

        public static BudgetDecision WaitFor(TimeSpan wait) => new(null, wait);
    }

    private sealed class CallMark(DateTimeOffset at)
    {
        public DateTimeOffset At { get; set; } = at;
    }

    private sealed class Lease(RateBudget? budget, CallMark[] marks, Action? finished, TimeSpan? retryAfter) : RateLimitLease
    {
        private int _disposed;

        public static Lease Denied(TimeSpan retryAfter) => new(null, [], null, retryAfter);

        public override bool IsAcquired => budget is not null;

        protected override void Dispose(bool disposing)
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                budget?.Complete(marks, finished);
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
