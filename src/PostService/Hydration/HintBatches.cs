using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace PostService.Hydration;

/// <summary>Cuts the hint queue into batches: one is sent when full, or once its first URI has waited the linger time.</summary>
public sealed class HintBatches(IOptions<HydrationOptions> options, TimeProvider time)
{
    private readonly int _batchSize = options.Value.BatchSize;
    private readonly TimeSpan _linger = TimeSpan.FromMilliseconds(options.Value.LingerMs);

    /// <summary>Up to one batch of hinted URIs; empty when none is waiting.</summary>
    public async Task<List<string>> NextAsync(ChannelReader<string> hints, CancellationToken cancellationToken)
    {
        var batch = new List<string>(_batchSize);
        if (!hints.TryRead(out var first))
        {
            return batch;
        }
        batch.Add(first);
        var deadline = time.GetUtcNow() + _linger;
        while (batch.Count < _batchSize)
        {
            if (hints.TryRead(out var next))
            {
                batch.Add(next);
                continue;
            }
            var remaining = deadline - time.GetUtcNow();
            if (remaining <= TimeSpan.Zero || !await WaitForMoreAsync(hints, remaining, cancellationToken))
            {
                break;
            }
        }
        return batch;
    }

    private async Task<bool> WaitForMoreAsync(ChannelReader<string> hints, TimeSpan remaining, CancellationToken cancellationToken)
    {
        using var linger = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        linger.CancelAfter(remaining);
        try
        {
            return await hints.WaitToReadAsync(linger.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
