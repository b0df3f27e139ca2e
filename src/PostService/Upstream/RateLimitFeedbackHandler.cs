using System.Net;
using PostService.Upstream.Budget;

namespace PostService.Upstream;

/// <summary>
/// Inside the pipeline, once per attempt: keeps the answer's <c>RateLimit-*</c> headers on the request for the caller
/// and tells the budget, if the upstream has one, what the upstream said about its own limits and 429 pauses.
/// </summary>
internal sealed class RateLimitFeedbackHandler(RateBudget? budget, RetryAfterRule retryAfter, TimeProvider time) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        var now = time.GetUtcNow();
        var rateLimit = RateLimitHeaders.From(response.Headers, now);
        UpstreamCall.RecordRateLimit(request, rateLimit);
        if (budget is null)
        {
            return response;
        }
        if (rateLimit is { Remaining: { } remaining, Reset: { } reset })
        {
            budget.ObserveServerBudget((int)Math.Min(remaining, int.MaxValue), reset);
        }
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            budget.PauseUntil(now + retryAfter.WaitOf(response.Headers, rateLimit, now));
        }
        return response;
    }
}
