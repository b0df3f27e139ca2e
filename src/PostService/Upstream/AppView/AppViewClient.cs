using System.Runtime.ExceptionServices;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Polly.RateLimiting;
using Polly.Timeout;
using Refit;

namespace PostService.Upstream.AppView;

/// <summary>
/// <see cref="IAppViewClient"/> over the Refit <see cref="IAppViewApi"/>: the pipeline has already retried, waited for
/// the budget and timed each attempt; this turns its answer into a <see cref="GetPostsResult"/>.
/// </summary>
internal sealed partial class AppViewClient(
    IAppViewApi api, IOptions<AppViewOptions> options, TimeProvider time, ILogger<AppViewClient> logger) : IAppViewClient
{
    /// <summary>The lexicon's <c>maxLength</c> for <c>uris</c>; the AppView counts duplicates too.</summary>
    public const int MaxUrisPerCall = 25;

    public async Task<GetPostsResult> GetPostsAsync(IReadOnlyList<string> uris, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(uris);
        if (uris.Count is 0 or > MaxUrisPerCall)
        {
            throw new ArgumentException(
                $"getPosts takes 1 to {MaxUrisPerCall} URIs per call, got {uris.Count}.", nameof(uris));
        }

        using var response = await api.GetPostsAsync(uris, cancellationToken);
        var request = response.HasRequestError(out var requestError) ? requestError.RequestMessage : response.RequestMessage;
        var rateLimit = UpstreamCall.RateLimitOf(request);
        var result = requestError is not null ? NotAnswered(requestError) : Answered(response, rateLimit, uris);
        var retries = UpstreamCall.RetriesOf(request);
        if (result is GetPostsResult.Failed failed)
        {
            LogGaveUp(failed.Reason, retries);
        }

        return result with { Retries = retries, RateLimit = rateLimit };
    }

    private GetPostsResult NotAnswered(ApiRequestException error)
    {
        switch (error.InnerException)
        {
            case TimeoutRejectedException:
                return new GetPostsResult.Failed(
                    $"the AppView did not answer within {options.Value.AttemptTimeout.TotalSeconds:0.###} s", null);
            case HttpRequestException exception:
                return new GetPostsResult.Failed($"request to the AppView failed: {exception.Message}", (int?)exception.StatusCode);
            case RateLimiterRejectedException refused:
                return new GetPostsResult.Deferred(refused.RetryAfter ?? TimeSpan.Zero);
            default:
                // Bugs propagate unchanged (the caller's cancellation already does).
                ExceptionDispatchInfo.Throw(error.InnerException ?? error);
                throw error;
        }
    }

    private GetPostsResult Answered(ApiResponse<GetPostsResponse> response, RateLimitHeaders? rateLimit, IReadOnlyList<string> requested)
    {
        // Answered: Refit leaves status and headers empty only when no response came.
        var status = (int)response.StatusCode!.Value;
        if (response.IsSuccessStatusCode)
        {
            return response switch
            {
                { Error: { } invalid } => new GetPostsResult.Failed(
                    $"the response is not a valid getPosts body: {invalid.InnerException?.Message ?? invalid.Message}", status),
                { Content.Posts: { } posts } => new GetPostsResult.Success(MatchByUri(posts, requested)),
                _ => new GetPostsResult.Failed("the response has no 'posts' array", status),
            };
        }

        return status switch
        {
            429 => new GetPostsResult.RateLimited(options.Value.RetryAfter.WaitOf(response.Headers!, rateLimit, time.GetUtcNow())),
            400 => new GetPostsResult.BadRequest(ErrorMessageOf(response, status)),
            _ => new GetPostsResult.Failed($"the AppView answered HTTP {status}: {ErrorMessageOf(response, status)}", status),
        };
    }

    /// <summary>Keys posts by their own uri: the AppView omits missing posts, so positions do not line up.</summary>
    private Dictionary<string, HydratedPost> MatchByUri(IReadOnlyList<PostView?> views, IReadOnlyList<string> requested)
    {
        var wanted = new HashSet<string>(requested, StringComparer.Ordinal);
        var byUri = new Dictionary<string, HydratedPost>(StringComparer.Ordinal);
        foreach (var view in views)
        {
            if (PostViewReader.Read(view) is not { } post)
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

    private static string ErrorMessageOf(ApiResponse<GetPostsResponse> response, int status)
    {
        XrpcError? error = null;
        if (response.Error is ApiException { Content: { Length: > 0 } body })
        {
            try
            {
                error = JsonSerializer.Deserialize(body, AppViewJsonContext.Default.XrpcError);
            }
            catch (JsonException)
            {
                // Not an XRPC error body (e.g. a proxy's HTML page); fall back to the status text.
            }
        }

        return NonBlank(error?.Message)
            ?? NonBlank(error?.Error)
            ?? NonBlank(response.ReasonPhrase)
            ?? $"HTTP {status}";
    }

    private static string? NonBlank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    [LoggerMessage(Level = LogLevel.Warning, Message = "AppView getPosts failed after {Retries} retries: {Reason}")]
    private partial void LogGaveUp(string reason, int retries);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipping a postView without uri, cid, author.did, author.handle or indexedAt (uri: {Uri})")]
    private partial void LogSkippedIncompletePost(string? uri);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Ignoring postView {Uri}, which was not requested")]
    private partial void LogIgnoredUnrequestedPost(string uri);
}
