using System.Text.Json;
using PostService.Identity;
using PostService.Posts;
using PostService.Storage;
using PostService.Upstream.AppView;

namespace PostService.Hydration;

/// <summary>Writes what a call found out about its posts, and counts it.</summary>
public sealed class OutcomeWriter(
    HydrationRepository posts,
    NotFoundQueue notFound,
    RefreshScheduler refreshes,
    IEnumerable<IHydratedPostsHandler> handlers,
    RetrySchedule schedule,
    HydrationMetrics metrics,
    TimeProvider time,
    ILogger<OutcomeWriter> logger)
{
    private const string NotReturned = "not returned by the AppView: deleted, taken down, or hidden from this viewer";
    private const int MaxErrorLength = 1_000;

    /// <summary>
    /// The posts the AppView returned are <c>ok</c>; those it left out are <c>not_found</c>, with the reason their PDS gives.
    /// A URI served by handle was asked for in its DID form (<paramref name="didForms"/>) and is recorded under the served URI.
    /// </summary>
    public async Task RecordAnswerAsync(
        HydrationRun run, IReadOnlyList<string> uris, IReadOnlyDictionary<string, string> didForms, IReadOnlyDictionary<string, HydratedPost> found,
        CancellationToken cancellationToken)
    {
        var fetchedAt = time.GetUtcNow();
        var now = DbTime.ToText(fetchedAt);
        var hydrated = new List<PostMetadata>();
        var missing = new List<PostFailure>();
        // Under the URI that was served (a handle URI's post comes back under its DID form), as the rows are keyed.
        var served = new List<HydratedPost>();
        foreach (var uri in uris)
        {
            if (found.TryGetValue(didForms.GetValueOrDefault(uri, uri), out var post))
            {
                served.Add(post with { Uri = uri });
                hydrated.Add(new PostMetadata(uri, post.Cid, post.AuthorDid, post.AuthorHandle, NormalizedTime(post.IndexedAt), NormalizedTime(post.CreatedAt), post.Text,
                    post.Langs is null ? null : JsonSerializer.Serialize(post.Langs), post.ReplyParentUri, post.ReplyRootUri, post.EmbedType,
                    post.LikeCount, post.RepostCount, post.ReplyCount, post.QuoteCount, now));
            }
            else
            {
                missing.Add(new PostFailure(uri, HydrationStatus.NotFound, NotReturned, 0, null, now));
            }
        }
        await posts.RecordAsync(hydrated, missing, cancellationToken);
        // The row is settled as not_found; why (deleted, hidden, account status) is the author's PDS's to say, asked
        // in the background so that a slow PDS does not hold this call's slot.
        notFound.Enqueue(missing.Select(post => post.PostUri));
        metrics.Count(run, HydrationCount.Hydrated, hydrated.Count);
        metrics.Count(run, HydrationCount.NotFound, missing.Count);
        // After the counts, so that the totals move with the rows.
        await FollowFetchAsync(served, fetchedAt, cancellationToken);
    }

    /// <summary>Counts the posts the firehose's cache settled (already written) and does what follows any fetch.</summary>
    public async Task RecordFromFirehoseAsync(HydrationRun run, IReadOnlyList<HydratedPost> settled, CancellationToken cancellationToken)
    {
        if (settled.Count == 0)
        {
            return;
        }
        var fetchedAt = time.GetUtcNow();
        metrics.Count(run, HydrationCount.Hydrated, settled.Count);
        metrics.Count(run, HydrationCount.HydratedFromFirehose, settled.Count);
        // After the counts, so that the totals move with the rows.
        await FollowFetchAsync(settled, fetchedAt, cancellationToken);
    }

    /// <summary>What follows any successful fetch of <paramref name="hydrated"/>: their next refresh, then the handlers.</summary>
    private async Task FollowFetchAsync(IReadOnlyList<HydratedPost> hydrated, DateTimeOffset fetchedAt, CancellationToken cancellationToken)
    {
        if (hydrated.Count == 0)
        {
            return;
        }
        await refreshes.ScheduleAsync(hydrated.Select(post => post.Uri).ToList(), fetchedAt, cancellationToken);
        foreach (var handler in handlers)
        {
            try
            {
                await handler.HandleAsync(hydrated, fetchedAt, cancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.LogError(exception, "{Handler} failed on {Count} hydrated posts; they stay hydrated", handler.GetType().Name, hydrated.Count);
            }
        }
    }

    /// <summary>Marks posts <c>error</c>, with the attempts and retry time <see cref="RetrySchedule"/> gives <paramref name="kind"/>.</summary>
    public async Task RecordFailureAsync(
        HydrationRun run, IReadOnlyList<string> uris, string reason, FailureKind kind, CancellationToken cancellationToken)
    {
        var states = await posts.GetStatesAsync(uris.ToList(), cancellationToken);
        var now = time.GetUtcNow();
        var error = reason.Length <= MaxErrorLength ? reason : reason[..MaxErrorLength];
        var failures = uris.Select(uri =>
        {
            var (attempts, retryAt) = schedule.AfterFailure(states.TryGetValue(uri, out var state) ? state.Attempts : 0, kind, now);
            return new PostFailure(uri, HydrationStatus.Error, error, attempts, retryAt is { } at ? DbTime.ToText(at) : null, DbTime.ToText(now));
        }).ToList();
        await posts.RecordAsync([], failures, cancellationToken);
        metrics.Count(run, HydrationCount.Errors, failures.Count);
    }

    /// <summary>
    /// A time as the database stores it (ISO-8601 UTC, milliseconds). A record's <c>createdAt</c> is whatever the client
    /// wrote; one that is not a date is dropped (the AppView's <c>indexedAt</c> always is one).
    /// </summary>
    private static string? NormalizedTime(string? value) => DbTime.TryParse(value, out var time) ? DbTime.ToText(time) : null;
}
