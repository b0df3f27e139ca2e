using System.ComponentModel.DataAnnotations;
using PostService.Storage;

namespace PostService.Upstream.Budget;

/// <summary>
/// The AppView call budget. Bound from <c>PostService:Hydration</c>, where these settings have always lived
/// (<c>PostService__Hydration__BudgetCalls</c> etc. are documented and used by deployments).
/// </summary>
public sealed class RateBudgetOptions
{
    public const string Section = "PostService:Hydration";

    /// <summary>Calls allowed in any window of <see cref="BudgetWindowSeconds"/>; Bluesky allows 3,000 per 5 minutes.</summary>
    [Range(1, 1_000_000)]
    public int BudgetCalls { get; set; } = 3_000;

    [Range(1, 86_400)]
    public int BudgetWindowSeconds { get; set; } = 300;

    /// <summary>
    /// The longest pause the AppView imposes (429, <c>RateLimit-Remaining: 0</c>) that calls wait out; a permit asked
    /// for during a longer one is refused at once, with the wait as its <c>RetryAfter</c>.
    /// </summary>
    [Range(0, 86_400)]
    public int MaxRateLimitWaitSeconds { get; set; } = 60;

    /// <summary>The name this process's calls are logged under in the shared call log (the same key as the hydration's claims).</summary>
    [MaxLength(200)]
    public string ReplicaId { get; set; } = ReplicaNames.NewDefault();
}
