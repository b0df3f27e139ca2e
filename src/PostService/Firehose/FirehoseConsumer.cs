using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace PostService.Firehose;

/// <summary>
/// What to consume. <paramref name="Cursor"/>: start after this seq (0: the oldest event the server keeps); null
/// resumes from the checkpoint, or from live when there is none. <paramref name="NotBefore"/>: with no cursor and no
/// checkpoint, start from the oldest event and apply only those from this time on.
/// </summary>
public sealed record FirehoseRunSpec(string Url, long? Cursor = null, DateTimeOffset? NotBefore = null, bool StopWhenLive = false);

/// <summary>
/// One consumer of one firehose URL: takes the URL's lease (waiting while another process holds it), then reads and
/// applies events until cancelled or, when asked, live. Events up to the checkpoint are never applied again, so a
/// restart after a crash, or a takeover by another replica, continues exactly where the last commit left off.
/// </summary>
public sealed class FirehoseConsumer(
    FirehoseStore store, FirehoseStatus status, IOptions<FirehoseOptions> options, TimeProvider time, ILogger<FirehoseConsumer> logger)
{
    private readonly FirehoseOptions _options = options.Value;

    public FirehoseStatus Status => status;

    public async Task RunAsync(FirehoseRunSpec spec, CancellationToken cancellationToken)
    {
        var url = SubscribeUrl(spec.Url);
        var lease = await TakeLeaseAsync(url, cancellationToken);
        status.Resumed(lease.Cursor);
        var start = spec.Cursor ?? lease.Cursor ?? (spec.NotBefore is null ? null : 0);
        logger.LogInformation("Consuming {Url} as {Replica}: checkpoint {Checkpoint}, reading from {Start}",
            url, _options.ReplicaId, lease.Cursor?.ToString() ?? "none", start?.ToString() ?? "live");

        var channel = Channel.CreateBounded<FirehoseEvent>(new BoundedChannelOptions(_options.ChannelCapacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reader = new FirehoseReader(_options, status, time, logger);
        var writer = new FirehoseWriter(store, _options, status, time, logger);
        var reading = reader.RunAsync(new FirehoseReadSpec(url, start, spec.NotBefore, spec.StopWhenLive), channel.Writer, stop.Token);
        try
        {
            // Cancelled, the writer stops at once: what it had not committed is read again after the checkpoint.
            await writer.RunAsync(url, lease.Cursor, channel.Reader, stop.Token);
        }
        finally
        {
            await stop.CancelAsync();
            await reading;
            status.Enter(FirehoseState.Stopped, url);
        }
        await store.ReleaseLeaseAsync(url, _options.ReplicaId, CancellationToken.None);
    }

    /// <summary>Gives the lease up after a failure or on shutdown, so that another process need not wait for it to run out.</summary>
    public Task ReleaseAsync(string url, CancellationToken cancellationToken) => store.ReleaseLeaseAsync(SubscribeUrl(url), _options.ReplicaId, cancellationToken);

    private async Task<FirehoseLease> TakeLeaseAsync(string url, CancellationToken cancellationToken)
    {
        var lease = TimeSpan.FromSeconds(_options.LeaseSeconds);
        while (true)
        {
            var now = time.GetUtcNow();
            var taken = await store.TakeLeaseAsync(url, _options.ReplicaId, now, now + lease, cancellationToken);
            if (taken.Acquired)
            {
                return taken;
            }
            if (status.State != FirehoseState.Standby)
            {
                logger.LogInformation("{Holder} consumes {Url}; standing by to take over", taken.HeldBy, url);
            }
            status.Enter(FirehoseState.Standby, url);
            await Task.Delay(lease / 3, time, cancellationToken);
        }
    }

    /// <summary>The subscribeRepos endpoint of a relay or PDS given by its bare address, or the URL as given when it has a path.</summary>
    public static string SubscribeUrl(string url)
    {
        var uri = new Uri(url);
        return uri.AbsolutePath is "" or "/" ? url.TrimEnd('/') + "/xrpc/com.atproto.sync.subscribeRepos" : url;
    }
}
