using System.Net;
using PostService.Upstream.AppView;

namespace PostService.Upstream.Budget;

/// <summary>
/// Reports each answer's <c>RateLimit-*</c> headers, and its 429s, to the host's budget, so that the budget tightens to
/// what the host itself counts. Sits inside the resilience pipeline: it sees every attempt, retries included.
/// </summary>
public sealed class HostBudgetObserver(HostCallBudget budget, TimeProvider time) : DelegatingHandler
{
    // A 429 that says neither Retry-After nor RateLimit-Reset.
    private static readonly TimeSpan DefaultPause = TimeSpan.FromSeconds(60);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        var host = request.RequestUri?.Authority ?? "";
        var now = time.GetUtcNow();
        var limits = RateLimitHeaders.From(response.Headers, now);
        if (limits is { Remaining: { } remaining, Reset: { } reset })
        {
            budget.ObserveServerBudget(host, remaining, reset);
        }
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            var retryAfter = response.Headers.RetryAfter is { } header
                ? header.Date ?? now + (header.Delta ?? DefaultPause)
                : limits?.Reset ?? now + DefaultPause;
            budget.PauseUntil(host, retryAfter);
        }
        return response;
    }
}
