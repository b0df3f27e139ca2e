using System.Threading.Channels;

namespace PostService.Backfill;

/// <summary>Wakes the service's backfill worker when jobs are enqueued; a wake-up already pending covers new ones.</summary>
public sealed class BackfillSignal
{
    private readonly Channel<bool> _channel = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public void Wake() => _channel.Writer.TryWrite(true);

    internal ChannelReader<bool> Reader => _channel.Reader;
}

/// <summary>
/// Runs enqueued backfill jobs in the service: at start (jobs left by a process that stopped), when woken by
/// <c>POST /backfill/repos</c>, and every minute (jobs whose claim ran out on a dead replica).
/// </summary>
public sealed class RepoBackfillWorker(RepoBackfiller backfiller, BackfillSignal signal, TimeProvider time, ILogger<RepoBackfillWorker> logger)
    : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await backfiller.RunAsync(null, new BackfillProgress(), stoppingToken);
                using var wake = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                wake.CancelAfter(Interval);
                try
                {
                    await signal.Reader.ReadAsync(wake.Token);
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception)
            {
                logger.LogError(exception, "Repository backfill worker failed; trying again in {Interval}", Interval);
                await Task.Delay(Interval, time, stoppingToken);
            }
        }
    }
}
