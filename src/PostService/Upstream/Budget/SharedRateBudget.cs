using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace PostService.Upstream.Budget;

/// <summary>
/// The budget of replicas sharing a PostgreSQL database: only the shared <see cref="AppViewCallLog"/> grants, so that
/// together they stay within one budget; this process's own log only feeds its statistics. A 429's pause is shared too.
/// </summary>
public sealed class SharedRateBudget(
    IOptions<RateBudgetOptions> options, TimeProvider time, AppViewCallLog sharedLog, ILogger<SharedRateBudget> logger)
    : RateBudget(options.Value, time)
{
    private readonly string _replicaId = options.Value.ReplicaId;

    // Asking the shared log takes a round trip: callers must wait for AcquireAsync.
    protected override RateLimitLease AttemptAcquireCore(int permitCount) => Denied(TimeSpan.Zero);

    protected override async ValueTask<BudgetDecision> DecideAsync(int permitCount, CancellationToken cancellationToken)
    {
        lock (Gate)
        {
            var local = Look(Time.GetUtcNow(), permitCount);
            if (!local.MayGo)
            {
                return local;
            }
        }
        var shared = await sharedLog.TryAcquireAsync(_replicaId, permitCount, Limit, Spacing, cancellationToken);
        if (!shared.Granted)
        {
            return BudgetDecision.WaitFor(shared.Wait);
        }
        lock (Gate)
        {
            return BudgetDecision.Granted(Grant(Time.GetUtcNow(), permitCount,
                () => ShareInBackground(token => sharedLog.FinishAsync(shared.CallIds, token), "finish")));
        }
    }

    protected override void OnPaused(DateTimeOffset until) =>
        ShareInBackground(token => sharedLog.PauseUntilAsync(until, token), "pause");

    /// <summary>
    /// Tells the shared log without holding up the caller (a lease is disposed synchronously). If it fails, the log
    /// errs on the safe side: an unfinished call counts until it could have timed out, a missed pause costs a 429.
    /// </summary>
    private void ShareInBackground(Func<CancellationToken, Task> write, string what) =>
        _ = Task.Run(async () =>
        {
            try
            {
                await write(CancellationToken.None);
            }
            catch (Exception exception)
            {
                logger.LogWarning(exception, "Could not record a budget {What} in the shared call log", what);
            }
        });
}
