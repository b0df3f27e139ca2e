using PostService.Firehose;
using PostService.Identity;
using PostService.Upstream.AppView;

namespace PostService.Hydration;

/// <summary>
/// Hydrates one claimed batch: one getPosts call (again after a 429), split in halves when the AppView rejects the batch
/// as a whole, each outcome classified and written. Never throws but for cancellation: a bad batch must not stop a run.
/// </summary>
public sealed class BatchHydrator(
    IServiceScopeFactory scopes,
    HandleUriResolver handles,
    FirehoseHydrator firehose,
    OutcomeWriter outcomes,
    OutageDetector outage,
    AppViewPause pause,
    HydrationMetrics metrics,
    TimeProvider time,
    ILogger<BatchHydrator> logger)
{
    public async Task HydrateAsync(HydrationRun run, IReadOnlyList<string> uris, CancellationToken cancellationToken)
    {
        try
        {
            // getPosts needs the author's DID: handle URIs are asked for in their DID form and recorded under the served URI.
            var byHandle = uris.Where(uri => !uri.StartsWith("at://did:", StringComparison.Ordinal)).ToList();
            var resolved = await handles.ResolveAsync(byHandle, cancellationToken);
            foreach (var unresolved in resolved.Failures.GroupBy(failure => failure.Reason))
            {
                await outcomes.RecordFailureAsync(run, unresolved.Select(failure => failure.Uri).ToList(), unresolved.Key, FailureKind.Transient, cancellationToken);
            }
            // Posts the firehose brought settle from its cache; only the rest cost a getPosts call.
            var byDid = uris.Except(byHandle).ToList();
            var fromFirehose = await firehose.TryHydrateAsync(byDid, cancellationToken);
            await outcomes.RecordFromFirehoseAsync(run, fromFirehose, cancellationToken);
            var fetched = byDid.Except(fromFirehose.Select(post => post.Uri)).Concat(resolved.DidForms.Keys).ToList();
            if (fetched.Count > 0)
            {
                // Resolved for this batch only: the typed client's HTTP handler is rotated by the factory, not held for life.
                await using var scope = scopes.CreateAsyncScope();
                await FetchAsync(scope.ServiceProvider.GetRequiredService<IAppViewClient>(), run, fetched, resolved.DidForms, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down: the posts stay as they were and are picked up on the next start.
        }
        catch (Exception exception)
        {
            // Its posts stay due and are retried by a later sweep.
            metrics.RecordError(time.GetUtcNow(), $"{exception.GetType().Name}: {exception.Message}");
            logger.LogError(exception, "Hydration of a batch of {Count} URIs failed", uris.Count);
        }
    }

    private async Task FetchAsync(
        IAppViewClient appView, HydrationRun run, IReadOnlyList<string> uris, IReadOnlyDictionary<string, string> didForms, CancellationToken cancellationToken)
    {
        while (true)
        {
            var started = time.GetTimestamp();
            var result = await appView.GetPostsAsync(uris.Select(uri => didForms.GetValueOrDefault(uri, uri)).ToList(), cancellationToken);
            Count(run, uris, result, time.GetElapsedTime(started));
            switch (result)
            {
                case GetPostsResult.Success success:
                    await outcomes.RecordAnswerAsync(run, uris, didForms, success.PostsByUri, cancellationToken);
                    return;
                case GetPostsResult.RateLimited:
                    // Never a failure of the posts: the client has paused the budget as told; send the batch again.
                    metrics.Count(run, HydrationCount.RateLimited, 1);
                    continue;
                case GetPostsResult.Deferred deferred:
                    // The AppView wants a long pause: nothing is recorded, so the posts stay due for when it ends.
                    pause.Defer(deferred.RetryAfter);
                    logger.LogWarning("The AppView asked for a pause until {ResumeAt:O}; hydration resumes then", pause.ResumeAt);
                    return;
                case GetPostsResult.BadRequest or GetPostsResult.Failed { StatusCode: >= 500 } when uris.Count > 1:
                    // One bad URI must not cost the others: isolate it by halving.
                    var half = uris.Count / 2;
                    await FetchAsync(appView, run, uris.Take(half).ToList(), didForms, cancellationToken);
                    await FetchAsync(appView, run, uris.Skip(half).ToList(), didForms, cancellationToken);
                    return;
                case GetPostsResult.BadRequest rejected:
                    await outcomes.RecordFailureAsync(run, uris, $"AppView rejected the URI: {rejected.Message}", FailureKind.Permanent, cancellationToken);
                    return;
                case GetPostsResult.Failed failed:
                    metrics.RecordError(time.GetUtcNow(), failed.Reason);
                    // An outage must not use up the posts' attempts, or they would wait for a forced run after it.
                    await (outage.InOutage
                        ? outcomes.RecordFailureAsync(run, uris, $"AppView unavailable, not counted as an attempt: {failed.Reason}", FailureKind.Outage, cancellationToken)
                        : outcomes.RecordFailureAsync(run, uris, failed.Reason, FailureKind.Transient, cancellationToken));
                    return;
            }
        }
    }

    private void Count(HydrationRun run, IReadOnlyList<string> uris, GetPostsResult result, TimeSpan elapsed)
    {
        if (result is GetPostsResult.Success or GetPostsResult.BadRequest)
        {
            outage.Answered();
        }
        // A deferred call was not sent; its retries were.
        metrics.Count(run, HydrationCount.ApiCalls, result is GetPostsResult.Deferred ? result.Retries : 1 + result.Retries);
        metrics.Count(run, HydrationCount.Retries, result.Retries);
        metrics.RecordCall(result.GetType().Name, elapsed);
        logger.LogDebug("getPosts with {Count} URIs: {Result} in {ElapsedMs} ms; URIs {Uris}", uris.Count, result.GetType().Name, elapsed.TotalMilliseconds, uris);
    }
}
