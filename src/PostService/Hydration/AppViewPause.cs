using Microsoft.Extensions.Options;
using PostService.Upstream.Budget;

namespace PostService.Hydration;

/// <summary>
/// The one pause the AppView imposes, kept by the call budget (<see cref="RateBudget.PausedUntil"/>). A pause that calls
/// wait out (up to <see cref="RateBudgetOptions.MaxRateLimitWaitSeconds"/>) goes unnoticed here; a longer one holds runs:
/// no batch is claimed until it is short enough, and the worker sleeps until it ends.
/// </summary>
public sealed class AppViewPause(RateBudget budget, IOptions<RateBudgetOptions> options, TimeProvider time)
{
    private readonly TimeSpan _longestWait = TimeSpan.FromSeconds(options.Value.MaxRateLimitWaitSeconds);

    public DateTimeOffset ResumeAt => budget.PausedUntil;

    /// <summary>True while the pause left is longer than calls wait out.</summary>
    public bool HoldsRuns => ResumeAt - time.GetUtcNow() > _longestWait;

    /// <summary>A call was not sent: the AppView wants no call for <paramref name="retryAfter"/> (an exhausted <c>RateLimit-Remaining</c>, too).</summary>
    public void Defer(TimeSpan retryAfter) => budget.PauseUntil(time.GetUtcNow() + retryAfter);
}
