using System.Threading.RateLimiting;

namespace PostService.Upstream.Budget;

/// <summary>
/// A call budget per host: at most <see cref="Limit"/> calls to one host in any window of <see cref="Window"/> (a sliding
/// log, like the AppView's <see cref="RateBudget"/>), further held back while the host has said through <c>RateLimit-*</c>
/// headers or a 429 that less is left. Each PDS counts its own callers, so each gets its own budget.
/// A wait longer than <see cref="MaxWait"/> is not waited out: the lease is refused, and the caller settles for "try later".
/// </summary>
public sealed class HostCallBudget(int limit, TimeSpan window, TimeSpan maxWait, TimeProvider time)
{
    private readonly Dictionary<string, HostLog> _hosts = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _lock = new();

    public int Limit => limit;

    public TimeSpan Window => window;

    public TimeSpan MaxWait => maxWait;

    /// <summary>Waits for a call to <paramref name="host"/> to fit the budget; a lease that is not acquired says how long it would have been.</summary>
    public async ValueTask<RateLimitLease> AcquireAsync(string host, CancellationToken cancellationToken)
    {
        while (true)
        {
            var wait = TryGrant(host);
            if (wait <= TimeSpan.Zero)
            {
                return Lease.Granted;
            }
            if (wait > maxWait)
            {
                return new Lease(wait);
            }
            await Task.Delay(wait, time, cancellationToken);
        }
    }

    /// <summary>How long a call to <paramref name="host"/> must wait; zero when it was granted (and logged) now.</summary>
    public TimeSpan TryGrant(string host)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            var log = LogOf(host);
            while (log.Calls.Count > 0 && log.Calls.Peek() <= now - window)
            {
                log.Calls.Dequeue();
            }
            if (now < log.PausedUntil)
            {
                return log.PausedUntil - now;
            }
            if (log.ServerRemaining is <= 0 && now < log.ServerResetAt)
            {
                return log.ServerResetAt - now;
            }
            if (log.Calls.Count >= limit)
            {
                return log.Calls.Peek() + window - now;
            }
            log.Calls.Enqueue(now);
            if (log.ServerRemaining is { } remaining && now < log.ServerResetAt)
            {
                log.ServerRemaining = remaining - 1;
            }
            return TimeSpan.Zero;
        }
    }

    /// <summary>The host's own count: <paramref name="remaining"/> calls are left until <paramref name="resetAt"/>.</summary>
    public void ObserveServerBudget(string host, long remaining, DateTimeOffset resetAt)
    {
        lock (_lock)
        {
            var log = LogOf(host);
            log.ServerRemaining = Math.Max(0, remaining);
            log.ServerResetAt = resetAt;
        }
    }

    /// <summary>The host answered 429: no call to it before <paramref name="until"/>.</summary>
    public void PauseUntil(string host, DateTimeOffset until)
    {
        lock (_lock)
        {
            var log = LogOf(host);
            if (until > log.PausedUntil)
            {
                log.PausedUntil = until;
            }
        }
    }

    private HostLog LogOf(string host)
    {
        if (!_hosts.TryGetValue(host, out var log))
        {
            log = new HostLog();
            _hosts[host] = log;
        }
        return log;
    }

    private sealed class HostLog
    {
        public Queue<DateTimeOffset> Calls { get; } = new();
        public DateTimeOffset PausedUntil { get; set; } = DateTimeOffset.MinValue;
        public long? ServerRemaining { get; set; }
        public DateTimeOffset ServerResetAt { get; set; } = DateTimeOffset.MinValue;
    }

    private sealed class Lease(TimeSpan? retryAfter) : RateLimitLease
    {
        public static readonly Lease Granted = new(null);

        public override bool IsAcquired => retryAfter is null;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = retryAfter;
            return retryAfter is not null && metadataName == MetadataName.RetryAfter.Name;
        }
    }
}
