using Microsoft.Extensions.Options;

namespace PostService.Identity;

/// <summary>
/// Asks the PDS why posts were not returned: those hydration just marked <c>not_found</c> (<see cref="NotFoundQueue"/>)
/// first, then, with a doubling delay, those whose reason is <c>unknown</c>, and <c>not_found</c> posts left without a
/// reason (dropped from a full queue, left by a process that stopped first, or from before reasons existed).
/// </summary>
public sealed class NotFoundExplanationWorker(
    NotFoundExplainer explainer, NotFoundQueue queue, IdentityRepository repository, IOptions<IdentityOptions> options, TimeProvider time,
    ILogger<NotFoundExplanationWorker> logger) : BackgroundService
{
    private const int PageSize = 100;

    // A post just marked not_found is on its way through the queue: the sweep leaves it that long.
    private static readonly TimeSpan QueuedGrace = TimeSpan.FromMinutes(2);

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
                await ExplainQueuedAsync(stoppingToken);
                await ExplainDueAsync(stoppingToken);
                await WaitForWorkAsync(stoppingToken);
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

    private async Task ExplainQueuedAsync(CancellationToken cancellationToken)
    {
        var page = new List<string>(PageSize);
        do
        {
            page.Clear();
            while (page.Count < PageSize && queue.Reader.TryRead(out var uri))
            {
                page.Add(uri);
            }
            await explainer.ExplainAsync(page.Distinct(StringComparer.Ordinal).ToList(), cancellationToken);
        }
        while (page.Count == PageSize);
    }

    private async Task ExplainDueAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<UnexplainedPost> due;
        do
        {
            var now = time.GetUtcNow();
            due = await repository.SelectDueAsync(now, now - QueuedGrace, PageSize, cancellationToken);
            await explainer.ExplainAsync(due, cancellationToken);
        }
        while (due.Count == PageSize && queue.Reader.Count == 0);
    }

    /// <summary>Until a post is queued or the interval has passed.</summary>
    private async Task WaitForWorkAsync(CancellationToken stoppingToken)
    {
        using var wake = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var queued = queue.Reader.WaitToReadAsync(wake.Token).AsTask();
        var timer = Task.Delay(Interval, time, wake.Token);
        await Task.WhenAny(queued, timer);
        await wake.CancelAsync();
        await Task.WhenAll(queued, timer).ContinueWith(_ => { }, TaskScheduler.Default);
        stoppingToken.ThrowIfCancellationRequested();
    }
}
