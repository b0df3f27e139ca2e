using System.Threading.Channels;

namespace PostService.Firehose;

/// <summary>
/// The database side of the consumer: takes events off the channel and applies them in batches, one transaction each
/// with the cursor after them. A batch is written when it is full, when nothing more is waiting, or a second after its
/// first event, whichever comes first; an idle writer still renews its lease, and prunes old posts now and then.
/// </summary>
public sealed class FirehoseWriter(FirehoseStore store, FirehoseOptions options, FirehoseStatus status, TimeProvider time, ILogger logger)
{
    private DateTimeOffset _nextPrune;

    private TimeSpan Lease => TimeSpan.FromSeconds(options.LeaseSeconds);

    /// <summary>Applies events until the channel completes; events up to <paramref name="checkpoint"/> were applied before and are passed over.</summary>
    public async Task RunAsync(string url, long? checkpoint, ChannelReader<FirehoseEvent> events, CancellationToken cancellationToken)
    {
        var batch = new List<FirehoseEvent>(options.MaxBatchEvents);
        var flushInterval = TimeSpan.FromMilliseconds(options.FlushIntervalMs);
        var batchStarted = 0L;
        _nextPrune = time.GetUtcNow().AddSeconds(options.PruneIntervalSeconds);
        while (true)
        {
            if (events.TryRead(out var next))
            {
                if (next.Seq <= checkpoint)
                {
                    continue;
                }
                if (batch.Count == 0)
                {
                    batchStarted = time.GetTimestamp();
                }
                batch.Add(next);
                if (batch.Count >= options.MaxBatchEvents || time.GetElapsedTime(batchStarted) >= flushInterval)
                {
                    await FlushAsync(url, batch, cancellationToken);
                }
                continue;
            }
            if (batch.Count > 0)
            {
                await FlushAsync(url, batch, cancellationToken);
                continue;
            }
            await PruneWhenDueAsync(cancellationToken);
            if (!await WaitOrRenewAsync(url, events, cancellationToken))
            {
                return;
            }
        }
    }

    /// <summary>Waits for events; renews the lease every third of it meanwhile. False once the channel is completed and empty.</summary>
    private async Task<bool> WaitOrRenewAsync(string url, ChannelReader<FirehoseEvent> events, CancellationToken cancellationToken)
    {
        using var renewal = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        renewal.CancelAfter(Lease / 3);
        try
        {
            return await events.WaitToReadAsync(renewal.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await store.ApplyAsync(url, options.ReplicaId, [], time.GetUtcNow(), time.GetUtcNow() + Lease, cancellationToken);
            return true;
        }
    }

    private async Task FlushAsync(string url, List<FirehoseEvent> batch, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await store.ApplyAsync(url, options.ReplicaId, batch, now, now + Lease, cancellationToken);
        status.Applied(batch.Count, batch[^1].Seq, batch[^1].Time);
        batch.Clear();
        // After batches too, so that a writer that is never idle (catching up) still prunes.
        await PruneWhenDueAsync(cancellationToken);
    }

    private async Task PruneWhenDueAsync(CancellationToken cancellationToken)
    {
        if (time.GetUtcNow() < _nextPrune)
        {
            return;
        }
        _nextPrune = time.GetUtcNow().AddSeconds(options.PruneIntervalSeconds);
        var pruned = await store.PruneAsync(time.GetUtcNow().AddHours(-options.RetentionHours), cancellationToken);
        if (pruned > 0)
        {
            logger.LogInformation("Pruned {Count} firehose posts older than {Hours} hours", pruned, options.RetentionHours);
        }
    }
}
