using Microsoft.Extensions.Options;

namespace PostService.Firehose;

/// <summary>
/// The hosted consumer (<c>PostService:Firehose:Enabled</c>): consumes the configured URL from its checkpoint for the
/// life of the service. A failure (the database away, the lease lost) is logged and the consumer starts again after a pause.
/// </summary>
public sealed class FirehoseWorker(FirehoseConsumer consumer, IOptions<FirehoseOptions> options, TimeProvider time, ILogger<FirehoseWorker> logger) : BackgroundService
{
    private static readonly TimeSpan PauseAfterFailure = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var url = options.Value.Url;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await consumer.RunAsync(new FirehoseRunSpec(url), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception)
            {
                consumer.Status.Failed(exception.Message);
                logger.LogError(exception, "The firehose consumer of {Url} failed; starting again in {Pause}", url, PauseAfterFailure);
                await ReleaseQuietlyAsync(url);
                await Task.Delay(PauseAfterFailure, time, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
        await ReleaseQuietlyAsync(url);
    }

    private async Task ReleaseQuietlyAsync(string url)
    {
        try
        {
            await consumer.ReleaseAsync(url, CancellationToken.None);
        }
        catch (Exception exception)
        {
            logger.LogWarning(exception, "Could not give up the lease on {Url}; it runs out by itself", url);
        }
    }
}
