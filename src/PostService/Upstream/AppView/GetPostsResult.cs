using PostService.Upstream.Budget;
namespace PostService.Upstream.AppView;

/// <summary>Outcome of one getPosts call, after the client's retries.</summary>
public abstract record GetPostsResult
{
    // Private constructor: only the nested records below can derive, so a switch over them is exhaustive.
    private GetPostsResult()
    {
    }

    /// <summary>How many retries were made (0 when the first attempt decided the result).</summary>
    public int Retries { get; init; }

    /// <summary>Rate-limit headers of the last response received, or null if it had none.</summary>
    public RateLimitHeaders? RateLimit { get; init; }

    /// <summary>
    /// Posts keyed by their at-URI. A requested URI that is missing was not found, taken down or blocked:
    /// the AppView omits such posts without an error.
    /// </summary>
    public sealed record Success(IReadOnlyDictionary<string, HydratedPost> PostsByUri) : GetPostsResult;

    /// <summary>HTTP 400: the request itself was rejected, so retrying the same batch cannot help.</summary>
    public sealed record BadRequest(string Message) : GetPostsResult;

    /// <summary>HTTP 429. The client does not wait; the caller reschedules after <paramref name="RetryAfter"/>.</summary>
    public sealed record RateLimited(TimeSpan RetryAfter) : GetPostsResult;

    /// <summary>
    /// Not sent: the AppView asked for a pause longer than calls wait (see <see cref="RateBudget"/>). The caller
    /// leaves the posts as they are and comes back after <paramref name="RetryAfter"/>.
    /// </summary>
    public sealed record Deferred(TimeSpan RetryAfter) : GetPostsResult;

    /// <summary>Server error, timeout, connection failure or invalid body, with retries exhausted.</summary>
    public sealed record Failed(string Reason, int? StatusCode) : GetPostsResult;
}
