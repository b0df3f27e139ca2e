using System.Net;

namespace PostService.Upstream.Budget;

/// <summary>
/// Reports each answer's <c>RateLimit-*</c> headers, and its 429s, to the host's budget, so that the budget tightens to
/// what the host itself counts. Sits inside the resilience pipeline: it sees every attempt, retries included.
/// </summary>
public sealed class HostBudgetObserver(HostCallBudget budget, RetryAfterRule retryAfter, TimeProvider time) : DelegatingHandler
{
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
            budget.PauseUntil(host, now + retryAfter.WaitOf(response.Headers, limits, now));
        }
        return response;
    }
}
