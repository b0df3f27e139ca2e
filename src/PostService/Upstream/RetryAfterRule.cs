using System.Net.Http.Headers;

namespace PostService.Upstream;

/// <summary>How long a 429 asks us to wait: <c>Retry-After</c>, else <c>RateLimit-Reset</c>, else a default; never beyond a cap.</summary>
public sealed record RetryAfterRule(TimeSpan DefaultWait, TimeSpan LongestWait)
{
    public TimeSpan WaitOf(HttpResponseHeaders headers, RateLimitHeaders? rateLimit, DateTimeOffset now)
    {
        var wait = headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - now,
            _ => rateLimit?.Reset - now ?? DefaultWait,
        };
        return wait < TimeSpan.Zero ? TimeSpan.Zero : wait > LongestWait ? LongestWait : wait;
    }
}
