using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using PostService.Hydration;
using PostService.Posts;

namespace PostService.Telemetry;

/// <summary>
/// Counts the posts waiting to be hydrated every <see cref="TelemetryOptions.BacklogSampleSeconds"/>, so that a gauge,
/// which is read synchronously, never waits for the database.
/// </summary>
public sealed class HydrationBacklog(
    CoverageQueries coverage, IOptions<TelemetryOptions> options, TimeProvider time, ILogger<HydrationBacklog> logger) : BackgroundService
{
    private long _pending = -1;

    /// <summary>The last count; nothing before the first.</summary>
    public IEnumerable<Measurement<long>> Observe()
    {
        var pending = Interlocked.Read(ref _pending);
        return pending < 0 ? [] : [new Measurement<long>(pending)];
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.BacklogSampleSeconds), time);
        do
        {
            try
            {
                var counts = await coverage.GetAsync(time.GetUtcNow(), trendDays: 1, stoppingToken);
                Interlocked.Exchange(ref _pending, counts.ByStatus[HydrationStatus.Pending]);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.LogWarning(exception, "Could not count the hydration backlog; the gauge keeps its last value");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
