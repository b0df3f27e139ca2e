using System.Net;
using System.Text;
using System.Text.Json;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using PostService.Atproto;
using PostService.Upstream.Budget;

namespace PostService.Upstream.AppView;

/// <summary>
/// Typed HttpClient for <c>GET /xrpc/app.bsky.feed.getPosts</c>. Retries transient failures itself; everything
/// that needs a decision (not found, bad request, rate limited, gave up) is returned to the caller.
/// Every attempt, retries included, first takes a permit from the <see cref="RateBudget"/>, and every answer's
/// rate-limit headers (and 429s) are reported back to it.
/// </summary>
public sealed partial class AppViewClient : IAppViewClient
{
    /// <summary>The lexicon's <c>maxLength</c> for <c>uris</c>; the AppView counts duplicates too.</summary>
    public const int MaxUrisPerCall = 25;

    private const string GetPostsPath = "/xrpc/app.bsky.feed.getPosts";
    private static readonly ResiliencePropertyKey<int> RetriesKey = new("PostService.AppView.Retries");

    private readonly HttpClient _http;
    private readonly ILogger<AppViewClient> _logger;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _attemptTimeout;
    private readonly TimeSpan _defaultRetryAfter;
    private readonly TimeSpan _maxRetryAfter;
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;
    private readonly RateBudget _budget;

    public AppViewClient(
        HttpClient http,
        RateBudget budget,
        IOptions<AppViewOptions> options,
        ILogger<AppViewClient> logger,
        TimeProvider timeProvider)
    {
        _http = http;
        _budget = budget;
        _logger = logger;
        _timeProvider = timeProvider;
        _attemptTimeout = TimeSpan.FromSeconds(options.Value.AttemptTimeoutSeconds);
        _defaultRetryAfter = TimeSpan.FromSeconds(options.Value.DefaultRetryAfterSeconds);
        _maxRetryAfter = TimeSpan.FromSeconds(options.Value.MaxRetryAfterSeconds);
        _pipeline = BuildPipeline(options.Value);
    }

    public async Task<GetPostsResult> GetPostsAsync(IReadOnlyList<string> uris, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(uris);
        if (uris.Count is 0 or > MaxUrisPerCall)
        {
            throw new ArgumentException(
                $"getPosts takes 1 to {MaxUrisPerCall} URIs per call, got {uris.Count}.", nameof(uris));
        }

        var call = new CallState(this, BuildRequestUri(uris));
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        try
        {
            var outcome = await _pipeline.ExecuteOutcomeAsync(
                static (ctx, state) => state.Client.SendOnceAsync(state, ctx.CancellationToken), context, call);
            context.Properties.TryGetValue(RetriesKey, out var retries);

            var result = await ToResultAsync(outcome, call, uris, cancellationToken);
            if (result is GetPostsResult.Failed failed)
            {
                LogGaveUp(failed.Reason, retries);
            }

            return result with { Retries = retries, RateLimit = call.RateLimit };
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private ResiliencePipeline<HttpResponseMessage> BuildPipeline(AppViewOptions options)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = _timeProvider };

        // Polly rejects MaxRetryAttempts = 0, so "no retries" means no retry strategy at all.
        if (options.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = options.MaxRetries,
                Delay = TimeSpan.FromMilliseconds(options.RetryBaseDelayMs),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                // A call holds an in-flight slot while it waits; longer outages are the sweep's to retry.
                MaxDelay = TimeSpan.FromSeconds(30),
                // 400 and 429 are not here: the same request would be rejected again, and 429 is the
                // caller's cue to reschedule rather than ours to sleep.
                ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                    .Handle<HttpRequestException>()
                    .Handle<TimeoutRejectedException>()
                    .Handle<InvalidAppViewBodyException>()
                    .HandleResult(response => (int)response.StatusCode >= 500),
                OnRetry = args =>
                {
                    args.Context.Properties.Set(RetriesKey, args.AttemptNumber + 1);
                    LogRetrying(args.AttemptNumber + 1, args.RetryDelay, Describe(args.Outcome));
                    return default;
                },
            });
        }

        // The attempt timeout is not a strategy here: it must start after the budget permit is granted,
        // inside the attempt (see SendOnceAsync), or waiting for the budget would count as a slow AppView.
        return builder.Build();
    }

    private static Uri BuildRequestUri(IReadOnlyList<string> uris)
    {
        // Repeated parameters, each fully escaped: rkeys may contain '&', '+' or '=', and a comma-joined
        // list would be read by the AppView as one invalid at-uri.
        var query = new StringBuilder(GetPostsPath);
        for (var i = 0; i < uris.Count; i++)
        {
            query.Append(i == 0 ? '?' : '&').Append("uris=").Append(Uri.EscapeDataString(uris[i]));
        }

        return new Uri(query.ToString(), UriKind.Relative);
    }

    /// <summary>
    /// One attempt. The body of a 2xx answer is parsed here, inside the pipeline, so an invalid body is
    /// retried like a server error. Never throws: failures travel as outcomes.
    /// </summary>
    private async ValueTask<Outcome<HttpResponseMessage>> SendOnceAsync(CallState call, CancellationToken attemptToken)
    {
        HttpResponseMessage? response = null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(attemptToken);
        try
        {
            using var lease = await _budget.AcquireAsync(1, attemptToken);
            if (!lease.IsAcquired)
            {
                lease.TryGetMetadata(MetadataName.RetryAfter, out var wait);
                return Outcome.FromException<HttpResponseMessage>(new BudgetPausedException(wait));
            }
            timeout.CancelAfter(_attemptTimeout);
            using var request = new HttpRequestMessage(HttpMethod.Get, call.RequestUri);
            // ResponseContentRead buffers the body within this attempt, so a stalled body hits the attempt timeout.
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token);
            var now = _timeProvider.GetUtcNow();
            call.RateLimit = RateLimitHeaders.From(response.Headers, now);
            if (call.RateLimit is { Remaining: { } remaining, Reset: { } reset })
            {
                _budget.ObserveServerBudget((int)Math.Min(remaining, int.MaxValue), reset);
            }
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                _budget.PauseUntil(now + RetryAfterOf(response, call.RateLimit));
            }

            if (response.IsSuccessStatusCode)
            {
                var (posts, problem) = await ParseBodyAsync(response, timeout.Token);
                if (problem is not null)
                {
                    var status = (int)response.StatusCode;
                    response.Dispose();
                    return Outcome.FromException<HttpResponseMessage>(new InvalidAppViewBodyException(problem, status));
                }

                call.Posts = posts;
            }

            return Outcome.FromResult(response);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !attemptToken.IsCancellationRequested)
        {
            response?.Dispose();
            return Outcome.FromException<HttpResponseMessage>(new TimeoutRejectedException($"attempt exceeded {_attemptTimeout}"));
        }
        catch (Exception exception)
        {
            response?.Dispose();
            return Outcome.FromException<HttpResponseMessage>(exception);
        }
    }

    private static async Task<(IReadOnlyList<PostView?>? Posts, string? Problem)> ParseBodyAsync(
        HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            var parsed = await JsonSerializer.DeserializeAsync(
                body, AppViewJsonContext.Default.GetPostsResponse, cancellationToken);
            return parsed?.Posts is { } posts
                ? (posts, null)
                : (null, "the response has no 'posts' array");
        }
        catch (JsonException exception)
        {
            return (null, $"the response is not a valid getPosts body: {exception.Message}");
        }
    }

    private async Task<GetPostsResult> ToResultAsync(
        Outcome<HttpResponseMessage> outcome,
        CallState call,
        IReadOnlyList<string> requested,
        CancellationToken cancellationToken)
    {
        switch (outcome.Exception)
        {
            case null:
                break;
            case TimeoutRejectedException:
                return new GetPostsResult.Failed(
                    $"the AppView did not answer within {_attemptTimeout.TotalSeconds:0.###} s", null);
            case HttpRequestException exception:
                return new GetPostsResult.Failed(
                    $"request to the AppView failed: {exception.Message}", (int?)exception.StatusCode);
            case InvalidAppViewBodyException exception:
                return new GetPostsResult.Failed(exception.Message, exception.StatusCode);
            case BudgetPausedException paused:
                return new GetPostsResult.Deferred(paused.Wait);
            default:
                // The caller's cancellation (OperationCanceledException) and bugs propagate unchanged.
                outcome.ThrowIfException();
                break;
        }

        using var response = outcome.Result!;
        var status = (int)response.StatusCode;
        if (response.IsSuccessStatusCode && call.Posts is { } posts)
        {
            return new GetPostsResult.Success(MatchByUri(posts, requested));
        }

        return status switch
        {
            429 => new GetPostsResult.RateLimited(RetryAfterOf(response, call.RateLimit)),
            400 => new GetPostsResult.BadRequest(await ReadErrorMessageAsync(response, cancellationToken)),
            _ => new GetPostsResult.Failed(
                $"the AppView answered HTTP {status}: {await ReadErrorMessageAsync(response, cancellationToken)}",
                status),
        };
    }

    /// <summary>Keys posts by their own uri: the AppView omits missing posts, so positions do not line up.</summary>
    private Dictionary<string, HydratedPost> MatchByUri(IReadOnlyList<PostView?> views, IReadOnlyList<string> requested)
    {
        var wanted = new HashSet<string>(requested, StringComparer.Ordinal);
        var byUri = new Dictionary<string, HydratedPost>(StringComparer.Ordinal);
        foreach (var view in views)
        {
            if (ToHydratedPost(view) is not { } post)
            {
                LogSkippedIncompletePost(view?.Uri);
            }
            else if (!wanted.Contains(post.Uri))
            {
                LogIgnoredUnrequestedPost(post.Uri);
            }
            else
            {
                byUri.TryAdd(post.Uri, post); // first one wins, as the AppView itself deduplicates
            }
        }

        return byUri;
    }

    private static HydratedPost? ToHydratedPost(PostView? view)
    {
        if (view is not
            {
                Uri: { Length: > 0 } uri,
                Cid: { Length: > 0 } cid,
                Author: { Did: { Length: > 0 } did, Handle: { Length: > 0 } handle },
                IndexedAt: { Length: > 0 } indexedAt,
            })
        {
            return null;
        }

        var record = view.Record;
        return new HydratedPost(
            uri,
            cid,
            did,
            handle,
            indexedAt,
            CreatedAt: StringAt(record, "createdAt"),
            Text: StringAt(record, "text"),
            Langs: StringsAt(record, "langs"),
            ReplyParentUri: StringAt(record, "reply", "parent", "uri"),
            ReplyRootUri: StringAt(record, "reply", "root", "uri"),
            EmbedType: view.Embed is { } embed ? StringAt(embed, "$type") : null,
            view.LikeCount,
            view.RepostCount,
            view.ReplyCount,
            view.QuoteCount,
            Hashtag.FromRecord(record) is { Count: > 0 } hashtags ? hashtags : null,
            PostMedia.FromEmbed(view.Embed, record) is { Count: > 0 } media ? media : null);
    }

    // The record is typed "unknown" in the lexicon, so it is read leniently: anything of the wrong shape is null.
    private static string? StringAt(JsonElement element, params ReadOnlySpan<string> path) =>
        ElementAt(element, path) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;

    private static List<string>? StringsAt(JsonElement element, string name) =>
        ElementAt(element, [name]) is { ValueKind: JsonValueKind.Array } array
            ? array.EnumerateArray()
                .Where(item => item.ValueKind == JsonValueKind.String)
                .Select(item => item.GetString()!)
                .ToList()
            : null;

    private static JsonElement? ElementAt(JsonElement element, ReadOnlySpan<string> path)
    {
        foreach (var name in path)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out element))
            {
                return null;
            }
        }

        return element;
    }

    private TimeSpan RetryAfterOf(HttpResponseMessage response, RateLimitHeaders? rateLimit)
    {
        var now = _timeProvider.GetUtcNow();
        var wait = response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - now,
            _ => rateLimit?.Reset - now ?? _defaultRetryAfter,
        };
        return wait < TimeSpan.Zero ? TimeSpan.Zero : wait > _maxRetryAfter ? _maxRetryAfter : wait;
    }

    private static async Task<string> ReadErrorMessageAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        XrpcError? error = null;
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            error = await JsonSerializer.DeserializeAsync(body, AppViewJsonContext.Default.XrpcError, cancellationToken);
        }
        catch (JsonException)
        {
            // Not an XRPC error body (e.g. a proxy's HTML page); fall back to the status text.
        }

        return NonBlank(error?.Message)
            ?? NonBlank(error?.Error)
            ?? NonBlank(response.ReasonPhrase)
            ?? $"HTTP {(int)response.StatusCode}";
    }

    private static string? NonBlank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static string Describe(Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception is { } exception
            ? $"{exception.GetType().Name}: {exception.Message}"
            : $"HTTP {(int)outcome.Result!.StatusCode}";

    [LoggerMessage(Level = LogLevel.Warning, Message = "AppView getPosts attempt failed ({Reason}); retry {Retry} in {Delay}")]
    private partial void LogRetrying(int retry, TimeSpan delay, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "AppView getPosts failed after {Retries} retries: {Reason}")]
    private partial void LogGaveUp(string reason, int retries);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipping a postView without uri, cid, author.did, author.handle or indexedAt (uri: {Uri})")]
    private partial void LogSkippedIncompletePost(string? uri);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Ignoring postView {Uri}, which was not requested")]
    private partial void LogIgnoredUnrequestedPost(string uri);

    /// <summary>What one call shares with its attempts: the request to send and the last answer's data.</summary>
    private sealed class CallState(AppViewClient client, Uri requestUri)
    {
        public AppViewClient Client { get; } = client;
        public Uri RequestUri { get; } = requestUri;
        public RateLimitHeaders? RateLimit { get; set; }
        public IReadOnlyList<PostView?>? Posts { get; set; }
    }

    /// <summary>The budget is paused by the AppView for longer than calls wait: this attempt was not sent.</summary>
    private sealed class BudgetPausedException(TimeSpan wait) : Exception($"the AppView asked for a pause of {wait}")
    {
        public TimeSpan Wait { get; } = wait;
    }

    /// <summary>A 2xx answer whose body is not a getPosts output; retried like a server error.</summary>
    private sealed class InvalidAppViewBodyException(string message, int statusCode) : Exception(message)
    {
        public int StatusCode { get; } = statusCode;
    }
}
