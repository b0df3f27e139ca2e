namespace PostService.Upstream;

/// <summary>What the pipeline learns about one call across its attempts, kept on its request for the caller.</summary>
public static class UpstreamCall
{
    private static readonly HttpRequestOptionsKey<int> RetriesKey = new("PostService.Upstream.Retries");
    private static readonly HttpRequestOptionsKey<RateLimitHeaders?> RateLimitKey = new("PostService.Upstream.RateLimit");

    /// <summary>How many retries were made (0 when the first attempt decided the result).</summary>
    public static int RetriesOf(HttpRequestMessage? request) =>
        request is not null && request.Options.TryGetValue(RetriesKey, out var retries) ? retries : 0;

    /// <summary>The rate-limit headers of the last answer received, or null if it had none or none came.</summary>
    public static RateLimitHeaders? RateLimitOf(HttpRequestMessage? request) =>
        request is not null && request.Options.TryGetValue(RateLimitKey, out var rateLimit) ? rateLimit : null;

    internal static void RecordRetry(HttpRequestMessage request, int retries) => request.Options.Set(RetriesKey, retries);

    internal static void RecordRateLimit(HttpRequestMessage request, RateLimitHeaders? rateLimit) => request.Options.Set(RateLimitKey, rateLimit);
}
