using Microsoft.Extensions.Options;

namespace PostService.Identity;

/// <summary>
/// Asks again, with a doubling delay, why posts whose reason is <c>unknown</c> were not returned, and explains
/// <c>not_found</c> posts that have no reason yet (left by a process that stopped first, or from before reasons existed).
/// </summary>
public sealed class NotFoundRetryWorker(
    NotFoundExplainer explainer, IdentityRepository repository, IOptions<IdentityOptions> options, TimeProvider time,
    ILogger<NotFoundRetryWorker> logger) : BackgroundService
{
    private const int PageSize = 100;

    // The hydration that marked a post not_found explains it itself right after; this leaves it that long.
    private static readonly TimeSpan OwnExplanationGrace = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan LongestInterval = TimeSpan.FromSeconds(30);

    // Often enough to honour the shortest retry delay.
    private TimeSpan Interval => TimeSpan.FromSeconds(Math.Min(LongestInterval.TotalSeconds, options.Value.UnknownRetrySeconds));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.ExplainNotFound)
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                IReadOnlyList<UnexplainedPost> due;
                do
                {
                    var now = time.GetUtcNow();
                    due = await repository.SelectDueAsync(now, now - OwnExplanationGrace, PageSize, stoppingToken);
                    await explainer.ExplainAsync(due, stoppingToken);
                }
                while (due.Count == PageSize);
                await Task.Delay(Interval, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception)
            {
                // The database or the network may be briefly unavailable; the worker must outlive that.
                logger.LogError(exception, "Explaining not-found posts failed; trying again in {Interval}", Interval);
                await Task.Delay(Interval, time, stoppingToken);
            }
        }
    }
}
