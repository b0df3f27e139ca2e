using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace PostService.Hydration;

/// <summary>
/// The getPosts calls in flight: at most <see cref="HydrationOptions.MaxInFlight"/> at once, and the URIs they carry, so
/// that the same URI is never in two calls at once.
/// </summary>
public sealed class CallsInFlight(IOptions<HydrationOptions> options) : IDisposable
{
    private readonly int _max = options.Value.MaxInFlight;
    private readonly ConcurrentDictionary<string, byte> _uris = new(StringComparer.Ordinal);
    private readonly ConcurrencyLimiter _slots = new(new ConcurrencyLimiterOptions
    {
        PermitLimit = options.Value.MaxInFlight,
        QueueLimit = int.MaxValue,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
    });

    public int Count => _max - (int)(_slots.GetStatistics()?.CurrentAvailablePermits ?? _max);

    public bool Carries(string uri) => _uris.ContainsKey(uri);

    /// <summary>Waits for room for one more call; disposing the slot gives the room back.</summary>
    public async Task<RateLimitLease> WaitForSlotAsync(CancellationToken cancellationToken) =>
        await _slots.AcquireAsync(1, cancellationToken);

    public void Carry(IEnumerable<string> uris)
    {
        foreach (var uri in uris)
        {
            _uris[uri] = 0;
        }
    }

    public void Drop(IEnumerable<string> uris)
    {
        foreach (var uri in uris)
        {
            _uris.TryRemove(uri, out _);
        }
    }

    public void Dispose() => _slots.Dispose();
}
