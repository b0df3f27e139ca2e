using System.Diagnostics;
using PostService.Hydration;
using PostService.Upstream.Budget;

namespace PostService.Tests.Upstream;

public sealed class RateBudgetTests
{
    private static RateBudget Budget(int calls, int windowSeconds) =>
        new(Microsoft.Extensions.Options.Options.Create(new HydrationOptions { BudgetCalls = calls, BudgetWindowSeconds = windowSeconds }), TimeProvider.System);

    [Fact]
    public async Task CallsBeyondTheBudgetWaitUntilTheOldestLeavesTheWindow()
    {
        using var budget = Budget(3, 1);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 3; i++)
        {
            using var lease = await budget.AcquireAsync();
            Assert.True(lease.IsAcquired);
        }
        Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(500), "the first calls within the budget do not wait");
        Assert.False(budget.AttemptAcquire().IsAcquired);

        using var fourth = await budget.AcquireAsync();

        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1), $"the fourth call waited a whole window, not {clock.Elapsed}");
        Assert.InRange(budget.UsedInWindow, 1, 3); // never more than the budget in the window
    }

    [Fact]
    public async Task APauseAfterA429HoldsEveryCallUntilItEnds()
    {
        using var budget = Budget(100, 60);
        budget.PauseUntil(DateTimeOffset.UtcNow.AddMilliseconds(400));
        var clock = Stopwatch.StartNew();

        using var lease = await budget.AcquireAsync();

        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(380), $"waited {clock.Elapsed}");
    }

    [Fact]
    public async Task TheAppViewsOwnCountTightensTheBudget()
    {
        using var budget = Budget(100, 60);
        budget.ObserveServerBudget(remaining: 1, resetAt: DateTimeOffset.UtcNow.AddMilliseconds(500));
        var clock = Stopwatch.StartNew();

        using (await budget.AcquireAsync())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(300), "the one remaining call goes at once");
        }
        using var second = await budget.AcquireAsync();

        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(480), $"the next call waited for the reset, not {clock.Elapsed}");
    }
}
