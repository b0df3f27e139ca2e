using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using PostService.Posts;
using PostService.Storage;
using PostService.Upstream.AppView;

namespace PostService.Hydration;

/// <summary>
/// Carries out hydration runs: takes URIs from the hint queue and from database sweeps, sends them to the
/// AppView in batches with several calls in flight (the rate budget, not latency, caps throughput), and
/// records every outcome. The same URI is never in two calls at once. Used by the background worker and the CLI.
/// </summary>
public sealed class HydrationEngine
{
    private const string NotReturned = "not returned by the AppView: deleted, taken down, or hidden from this viewer";
    private const string HandleAuthority = "handle-based at-URI: getPosts needs the author's DID; resolve the handle first";
    private const int MaxErrorLength = 1_000;
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromDays(1);

    // With no call answered for this long, failures are taken for an outage of the AppView.
    private static readonly TimeSpan OutageAfter = TimeSpan.FromMinutes(1);

    private readonly IAppViewClient _appView;
    private readonly HydrationRepository _posts;
    private readonly HydrationRunsRepository _runs;
    private readonly HydrationMetrics _metrics;
    private readonly HydrationOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<HydrationEngine> _logger;
    private readonly IReadOnlyList<IHydratedPostsHandler> _handlers;
    private readonly ConcurrentDictionary<string, byte> _inFlight = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _slots;
    private long _lastAnswerTicks;
    private long _apiCalls, _hydrated, _notFound, _errors, _skippedCached, _retries, _rateLimited;
    private long _resumeAtTicks;

    public HydrationEngine(
        IAppViewClient appView, HydrationRepository posts, HydrationRunsRepository runs,
        HydrationMetrics metrics, IOptions<HydrationOptions> options, TimeProvider time, ILogger<HydrationEngine> logger,
        IEnumerable<IHydratedPostsHandler> handlers)
    {
        (_appView, _posts, _runs, _metrics, _options, _time, _logger) = (appView, posts, runs, metrics, options.Value, time, logger);
        _handlers = handlers.ToList();
        _slots = new SemaphoreSlim(_options.MaxInFlight, _options.MaxInFlight);
    }

    public int InFlightCalls => _options.MaxInFlight - _slots.CurrentCount;

    public long RateLimitedSeen => Interlocked.Read(ref _rateLimited);

    public string? LastError { get; private set; }

    /// <summary>Until when the AppView asked for a pause too long to wait out in a call; no batch is sent before.</summary>
    public DateTimeOffset ResumeAt => new(Interlocked.Read(ref _resumeAtTicks), TimeSpan.Zero);

    private bool Paused => _time.GetUtcNow() < ResumeAt;

    public HydrationTotals Totals => new(
        Interlocked.Read(ref _apiCalls), Interlocked.Read(ref _hydrated), Interlocked.Read(ref _notFound),
        Interlocked.Read(ref _errors), Interlocked.Read(ref _skippedCached), Interlocked.Read(ref _retries));

    /// <summary>
    /// Runs until the hints are drained and the sweep finds nothing more (or the limit is reached), then waits for
    /// the calls in flight. <paramref name="yieldToken"/> ends the run early but cleanly (no new calls; the calls in
    /// flight finish and are recorded), to let another one start or the process stop. A long pause asked for by the
    /// AppView ends the run too, leaving the posts not yet fetched due (see <see cref="ResumeAt"/>).
    /// </summary>
    public async Task<HydrationRunRecord> RunAsync(
        HydrationRun run, ChannelReader<string>? hints, CancellationToken yieldToken, CancellationToken cancellationToken)
    {
        run.StartedAt = _time.GetUtcNow();
        run.Status = "running";
        if (run.RunId != 0)
        {
            await _runs.SaveAsync(run.Snapshot(), cancellationToken);
        }
        var selection = SelectionFor(run.Spec, run.StartedAt);
        var calls = new List<Task>();
        using var renewing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var renewal = RenewClaimsAsync(renewing.Token);
        try
        {
            do
            {
                if (hints is not null)
                {
                    while (!yieldToken.IsCancellationRequested && await NextHintBatchAsync(hints, cancellationToken) is { Count: > 0 } hinted)
                    {
                        if (!await SubmitAsync(run, selection, hinted, calls, yieldToken, cancellationToken))
                        {
                            break;
                        }
                    }
                }
                await SweepAsync(run, selection, calls, yieldToken, cancellationToken);
            }
            while (hints is { Count: > 0 } && !LimitReached(run) && !yieldToken.IsCancellationRequested && !Paused);
            await Task.WhenAll(calls);
            // Calls cut short by cancellation end quietly: a run whose last calls were cancelled did not complete.
            cancellationToken.ThrowIfCancellationRequested();
            run.Status = "completed";
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Calls cut short leave their posts as they were; nothing is half-written.
            await Task.WhenAll(calls);
            run.Status = "cancelled";
        }
        finally
        {
            await renewing.CancelAsync();
            await renewal;
            // Claims of calls that did not finish: give them back rather than make other processes wait for the lease.
            await _posts.ReleaseClaimsAsync(_options.ReplicaId, CancellationToken.None);
        }
        return await FinishAsync(run);
    }

    /// <summary>Keeps this process's claims alive while its calls run; a process that dies stops renewing them.</summary>
    private async Task RenewClaimsAsync(CancellationToken cancellationToken)
    {
        var lease = TimeSpan.FromSeconds(_options.ClaimLeaseSeconds);
        try
        {
            while (true)
            {
                await Task.Delay(lease / 3, _time, cancellationToken);
                try
                {
                    await _posts.RenewClaimsAsync(_options.ReplicaId, _time.GetUtcNow() + lease, cancellationToken);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    _logger.LogWarning(exception, "Could not renew this process's hydration claims; trying again in {Interval}", lease / 3);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>How many posts a run of <paramref name="spec"/> starting now would attempt, for a progress display.</summary>
    public async Task<long> CountDueAsync(RunSpec spec, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var due = await _posts.CountDueAsync(SelectionFor(spec, now), now, cancellationToken);
        return spec.Limit is { } limit ? Math.Min(due, limit) : due;
    }

    private WorkSelection SelectionFor(RunSpec spec, DateTimeOffset startedAt) =>
        new(spec.Force, spec.Refresh, spec.RefreshOlderThan is { } age ? DbTime.ToText(startedAt - age) : null,
            _options.MaxAttempts, DbTime.ToText(startedAt));

    private async Task<HydrationRunRecord> FinishAsync(HydrationRun run)
    {
        var record = run.Snapshot(_time.GetUtcNow());
        if (run.RunId != 0)
        {
            await _runs.SaveAsync(record, CancellationToken.None);
            _logger.LogInformation(
                "Hydration run {RunId} ({Trigger}{Force}) {Status}: attempted {Attempted}, hydrated {Hydrated}, not found {NotFound}, " +
                "errors {Errors}, skipped cached {SkippedCached}, API calls {ApiCalls}, rate limited {RateLimited}, retries {Retries}",
                record.RunId, record.Trigger, record.Force ? ", force" : "", record.Status, record.Attempted, record.Hydrated,
                record.NotFound, record.Errors, record.SkippedCached, record.ApiCalls, record.RateLimited, record.Retries);
        }
        run.Complete(record);
        return record;
    }

    /// <summary>Up to one batch of hinted URIs: sent when full, or once the first has waited the linger time.</summary>
    private async Task<List<string>> NextHintBatchAsync(ChannelReader<string> hints, CancellationToken cancellationToken)
    {
        var batch = new List<string>(_options.BatchSize);
        if (!hints.TryRead(out var first))
        {
            return batch;
        }
        batch.Add(first);
        var deadline = _time.GetUtcNow().AddMilliseconds(_options.LingerMs);
        while (batch.Count < _options.BatchSize)
        {
            if (hints.TryRead(out var next))
            {
                batch.Add(next);
                continue;
            }
            var remaining = deadline - _time.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
            {
                break;
            }
            using var linger = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            linger.CancelAfter(remaining);
            try
            {
                if (!await hints.WaitToReadAsync(linger.Token))
                {
                    break;
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                break;
            }
        }
        return batch;
    }

    private async Task SweepAsync(HydrationRun run, WorkSelection selection, List<Task> calls, CancellationToken yieldToken, CancellationToken cancellationToken)
    {
        foreach (var status in selection.Statuses)
        {
            var afterUri = "";
            while (!yieldToken.IsCancellationRequested)
            {
                var page = await _posts.SelectWorkAsync(selection, status, afterUri, _options.SweepPageSize, _time.GetUtcNow(), cancellationToken);
                if (page.Count == 0)
                {
                    break;
                }
                if (!await SubmitAsync(run, selection, page, calls, yieldToken, cancellationToken))
                {
                    return;
                }
                afterUri = page[^1];
                if (page.Count < _options.SweepPageSize)
                {
                    break;
                }
            }
        }
    }

    /// <summary>Sends the candidates that are due, in batches; false once the run's limit is reached or it must stop.</summary>
    private async Task<bool> SubmitAsync(
        HydrationRun run, WorkSelection selection, IReadOnlyList<string> candidates, List<Task> calls, CancellationToken yieldToken, CancellationToken cancellationToken)
    {
        if (Paused)
        {
            return false;
        }
        // A URI in flight is being settled by its call; checking state only after it leaves keeps the check true.
        var fresh = candidates.Distinct(StringComparer.Ordinal).Where(uri => !_inFlight.ContainsKey(uri)).ToList();
        if (fresh.Count == 0)
        {
            return true;
        }
        var states = await _posts.GetStatesAsync(fresh, cancellationToken);
        var due = new List<string>(fresh.Count);
        var skipped = 0;
        var now = DbTime.ToText(_time.GetUtcNow());
        foreach (var uri in fresh)
        {
            if (!states.TryGetValue(uri, out var state))
            {
                continue;
            }
            if (IsDue(state, selection, now))
            {
                due.Add(uri);
            }
            else if (state.HydrationStatus is HydrationStatus.Ok or HydrationStatus.NotFound)
            {
                skipped++;
            }
        }
        run.AddSkippedCached(skipped);
        Interlocked.Add(ref _skippedCached, skipped);

        foreach (var chunk in due.Chunk(_options.BatchSize))
        {
            var room = run.Spec.Limit is { } limit ? limit - run.Attempted : long.MaxValue;
            if (room <= 0)
            {
                return false;
            }
            await _slots.WaitAsync(cancellationToken);
            // Waiting for a slot can take a whole call: the run may have been told to stop, or paused, meanwhile.
            if (yieldToken.IsCancellationRequested || Paused)
            {
                _slots.Release();
                return false;
            }
            // Another process may have taken some of these since they were read: only what this one claims is sent.
            var claimedAt = _time.GetUtcNow();
            string[] batch;
            try
            {
                var claimed = await _posts.ClaimAsync(chunk.Take((int)Math.Min(room, chunk.Length)).ToList(), selection, _options.ReplicaId,
                    claimedAt, claimedAt.AddSeconds(_options.ClaimLeaseSeconds), cancellationToken);
                batch = claimed.Order(StringComparer.Ordinal).ToArray();
            }
            catch
            {
                _slots.Release();
                throw;
            }
            if (batch.Length == 0)
            {
                _slots.Release();
                continue;
            }
            if (run.RunId == 0)
            {
                run.RunId = await _runs.CreateAsync(run.Spec.Trigger, run.Spec.Force, run.Spec.Refresh, DbTime.ToText(run.StartedAt), run.Status, cancellationToken);
            }
            foreach (var uri in batch)
            {
                _inFlight[uri] = 0;
            }
            run.AddAttempted(batch.Length);
            calls.RemoveAll(call => call.IsCompleted);
            calls.Add(ProcessBatchAsync(run, batch, cancellationToken));
        }
        return !LimitReached(run);
    }

    private static bool IsDue(PostState state, WorkSelection selection, string now)
    {
        var notThisRun = state.LastHydratedAt is null || string.CompareOrdinal(state.LastHydratedAt, selection.RunStartedAt) < 0;
        return state.HydrationStatus switch
        {
            HydrationStatus.Pending => true,
            HydrationStatus.Error => notThisRun && (selection.Force || (state.Attempts < selection.MaxAttempts
                && (state.NextAttemptAt is null || string.CompareOrdinal(state.NextAttemptAt, now) <= 0))),
            HydrationStatus.NotFound => notThisRun && selection.Force,
            HydrationStatus.Ok => notThisRun && selection.Refresh
                && (selection.RefreshBefore is null || state.LastHydratedAt is null || string.CompareOrdinal(state.LastHydratedAt, selection.RefreshBefore) < 0),
            _ => false,
        };
    }

    private static bool LimitReached(HydrationRun run) => run.Spec.Limit is { } limit && run.Attempted >= limit;

    private async Task ProcessBatchAsync(HydrationRun run, string[] uris, CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            var byHandle = uris.Where(uri => !uri.StartsWith("at://did:", StringComparison.Ordinal)).ToList();
            if (byHandle.Count > 0)
            {
                await RecordFailuresAsync(run, byHandle, HandleAuthority, permanent: true, cancellationToken);
            }
            var byDid = uris.Except(byHandle).ToList();
            if (byDid.Count > 0)
            {
                await FetchAsync(run, byDid, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down: the posts stay as they were and are picked up on the next start.
        }
        catch (Exception exception)
        {
            // One bad batch must never stop the worker; its posts stay due and are retried by a later sweep.
            LastError = $"{_time.GetUtcNow():O} {exception.GetType().Name}: {exception.Message}";
            _logger.LogError(exception, "Hydration of a batch of {Count} URIs failed", uris.Length);
        }
        finally
        {
            foreach (var uri in uris)
            {
                _inFlight.TryRemove(uri, out _);
            }
            _slots.Release();
        }
    }

    /// <summary>One getPosts call, repeated after 429s, split in halves when the AppView rejects the batch as a whole.</summary>
    private async Task FetchAsync(HydrationRun run, IReadOnlyList<string> uris, CancellationToken cancellationToken)
    {
        while (true)
        {
            var started = _time.GetTimestamp();
            var result = await _appView.GetPostsAsync(uris, cancellationToken);
            if (result is GetPostsResult.Success or GetPostsResult.BadRequest)
            {
                Interlocked.Exchange(ref _lastAnswerTicks, _time.GetUtcNow().UtcTicks);
            }
            var sent = result is GetPostsResult.Deferred ? result.Retries : 1 + result.Retries;
            run.AddApiCalls(sent, result.Retries);
            Interlocked.Add(ref _apiCalls, sent);
            Interlocked.Add(ref _retries, result.Retries);
            _metrics.RecordCall(result.GetType().Name, _time.GetElapsedTime(started));
            _logger.LogDebug("getPosts with {Count} URIs: {Result} in {ElapsedMs} ms; URIs {Uris}",
                uris.Count, result.GetType().Name, _time.GetElapsedTime(started).TotalMilliseconds, uris);

            switch (result)
            {
                case GetPostsResult.Success success:
                    await RecordSuccessAsync(run, uris, success.PostsByUri, cancellationToken);
                    return;
                case GetPostsResult.RateLimited:
                    // Never a failure of the posts: the client has paused the budget as told; send the batch again.
                    run.AddRateLimited();
                    Interlocked.Increment(ref _rateLimited);
                    continue;
                case GetPostsResult.Deferred deferred:
                    // The AppView wants a long pause: nothing is recorded, so the posts stay due for when it ends.
                    PauseUntil(_time.GetUtcNow() + deferred.RetryAfter);
                    return;
                case GetPostsResult.BadRequest or GetPostsResult.Failed { StatusCode: >= 500 } when uris.Count > 1:
                    // One bad URI must not cost the others: isolate it by halving.
                    var half = uris.Count / 2;
                    await FetchAsync(run, uris.Take(half).ToList(), cancellationToken);
                    await FetchAsync(run, uris.Skip(half).ToList(), cancellationToken);
                    return;
                case GetPostsResult.BadRequest rejected:
                    await RecordFailuresAsync(run, uris, $"AppView rejected the URI: {rejected.Message}", permanent: true, cancellationToken);
                    return;
                case GetPostsResult.Failed failed:
                    LastError = $"{_time.GetUtcNow():O} {failed.Reason}";
                    // No call answered for a while: the AppView is down, not these posts. An outage must not use up their
                    // attempts, or they would wait for a forced run after it.
                    var outage = Interlocked.Read(ref _lastAnswerTicks) < (_time.GetUtcNow() - OutageAfter).UtcTicks;
                    await RecordFailuresAsync(run, uris, outage ? $"AppView unavailable, not counted as an attempt: {failed.Reason}" : failed.Reason,
                        permanent: false, cancellationToken, countAsAttempt: !outage);
                    return;
            }
        }
    }

    private void PauseUntil(DateTimeOffset until)
    {
        long current;
        do
        {
            current = Interlocked.Read(ref _resumeAtTicks);
            if (until.UtcTicks <= current)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _resumeAtTicks, until.UtcTicks, current) != current);
        _logger.LogWarning("The AppView asked for a pause until {ResumeAt:O}; hydration resumes then", until);
    }

    private async Task RecordSuccessAsync(HydrationRun run, IReadOnlyList<string> uris, IReadOnlyDictionary<string, HydratedPost> found, CancellationToken cancellationToken)
    {
        var fetchedAt = _time.GetUtcNow();
        var now = DbTime.ToText(fetchedAt);
        var hydrated = new List<PostMetadata>();
        var missing = new List<PostFailure>();
        foreach (var uri in uris)
        {
            if (found.TryGetValue(uri, out var post))
            {
                hydrated.Add(new PostMetadata(uri, post.Cid, post.AuthorDid, post.AuthorHandle, NormalizedTime(post.IndexedAt), NormalizedTime(post.CreatedAt), post.Text,
                    post.Langs is null ? null : JsonSerializer.Serialize(post.Langs), post.ReplyParentUri, post.ReplyRootUri, post.EmbedType,
                    post.LikeCount, post.RepostCount, post.ReplyCount, post.QuoteCount, now));
            }
            else
            {
                missing.Add(new PostFailure(uri, HydrationStatus.NotFound, NotReturned, 0, null, now));
            }
        }
        await _posts.RecordAsync(hydrated, missing, cancellationToken);
        run.AddHydrated(hydrated.Count);
        run.AddNotFound(missing.Count);
        Interlocked.Add(ref _hydrated, hydrated.Count);
        Interlocked.Add(ref _notFound, missing.Count);
        _metrics.RecordOutcome(HydrationStatus.Ok, hydrated.Count);
        _metrics.RecordOutcome(HydrationStatus.NotFound, missing.Count);
        // After the counts, so that the totals move with the rows.
        await HandleHydratedAsync(found.Values.ToList(), fetchedAt, cancellationToken);
    }

    private async Task HandleHydratedAsync(IReadOnlyList<HydratedPost> posts, DateTimeOffset fetchedAt, CancellationToken cancellationToken)
    {
        if (posts.Count == 0)
        {
            return;
        }
        foreach (var handler in _handlers)
        {
            try
            {
                await handler.HandleAsync(posts, fetchedAt, cancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                _logger.LogError(exception, "{Handler} failed on {Count} hydrated posts; they stay hydrated", handler.GetType().Name, posts.Count);
            }
        }
    }

    /// <summary>
    /// Marks posts <c>error</c>. A transient failure is retried later with a doubling delay until the attempts
    /// run out; a permanent one (the AppView rejects the URI) waits for a forced run. A failure during an outage
    /// (<paramref name="countAsAttempt"/> false) is retried after the first delay and leaves the attempts as they were.
    /// </summary>
    private async Task RecordFailuresAsync(
        HydrationRun run, IReadOnlyList<string> uris, string reason, bool permanent, CancellationToken cancellationToken, bool countAsAttempt = true)
    {
        var states = await _posts.GetStatesAsync(uris.ToList(), cancellationToken);
        var now = _time.GetUtcNow();
        var error = reason.Length <= MaxErrorLength ? reason : reason[..MaxErrorLength];
        var failures = uris.Select(uri =>
        {
            var before = states.TryGetValue(uri, out var state) ? state.Attempts : 0;
            var attempts = permanent ? _options.MaxAttempts : countAsAttempt ? before + 1 : before;
            var retryAt = attempts < _options.MaxAttempts ? DbTime.ToText(now + Backoff(countAsAttempt ? attempts : 1)) : null;
            return new PostFailure(uri, HydrationStatus.Error, error, attempts, retryAt, DbTime.ToText(now));
        }).ToList();
        await _posts.RecordAsync([], failures, cancellationToken);
        run.AddErrors(failures.Count);
        Interlocked.Add(ref _errors, failures.Count);
        _metrics.RecordOutcome(HydrationStatus.Error, failures.Count);
    }

    /// <summary>
    /// A time as the database stores it (ISO-8601 UTC, milliseconds). A record's <c>createdAt</c> is whatever the client
    /// wrote; one that is not a date is dropped (the AppView's <c>indexedAt</c> always is one).
    /// </summary>
    private static string? NormalizedTime(string? value) => DbTime.TryParse(value, out var time) ? DbTime.ToText(time) : null;

    private TimeSpan Backoff(long attempts)
    {
        var delay = TimeSpan.FromSeconds(_options.RetryBackoffSeconds * Math.Pow(2, Math.Min(attempts - 1, 20)));
        return delay < MaxBackoff ? delay : MaxBackoff;
    }
}
