using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace PostService.Upstream.Budget;

/// <summary>The budget of a process alone on its database (SQLite): the sliding log is this process's own.</summary>
public sealed class LocalRateBudget(IOptions<RateBudgetOptions> options, TimeProvider time) : RateBudget(options.Value, time)
{
    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        lock (Gate)
        {
            var now = Time.GetUtcNow();
            var decision = Look(now, permitCount);
            return decision.MayGo ? Grant(now, permitCount) : Denied(decision.Wait);
        }
    }

    protected override ValueTask<BudgetDecision> DecideAsync(int permitCount, CancellationToken cancellationToken)
    {
        lock (Gate)
        {
            var now = Time.GetUtcNow();
            var decision = Look(now, permitCount);
            return ValueTask.FromResult(decision.MayGo ? BudgetDecision.Granted(Grant(now, permitCount)) : decision);
        }
    }

    protected override TimeSpan OwnLogWait(DateTimeOffset now, int permitCount) => UntilOwnLogHasRoom(now, permitCount);
}
