using System.Threading.RateLimiting;
using Microsoft.Extensions.Time.Testing;
using PostService.Upstream.Budget;

namespace PostService.Tests.Upstream;

/// <summary>The budget's time rules, on a fake clock: nothing here sleeps.</summary>
public sealed class RateBudgetTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task CallsBeyondTheBudgetWaitUntilTheOldestLeavesTheWindow()
    {
        using var budget = Budget(3, 1);
        for (var i = 0; i < 3; i++)
        {
            var lease = budget.AcquireAsync();
            Assert.True(lease.IsCompleted, "the first calls within the budget do not wait");
            (await lease).Dispose();
        }
        Assert.False(budget.AttemptAcquire().IsAcquired);

        var fourth = budget.AcquireAsync().AsTask();
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(fourth.IsCompleted, "a whole window is not enough: calls are spaced by the window and a margin");
        _time.Advance(TimeSpan.FromMilliseconds(101));

        using var granted = await fourth.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(granted.IsAcquired);
        Assert.InRange(budget.UsedInWindow, 1, 3); // never more than the budget in the window
    }

    [Fact]
    public async Task ACallCountsFromWhenItFinishedNotWhenItWasGranted()
    {
        using var budget = Budget(1, 10);
        var slow = await budget.AcquireAsync();
        _time.Advance(TimeSpan.FromSeconds(8)); // e.g. connection set-up
        slow.Dispose();

        var next = budget.AcquireAsync().AsTask();
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.False(next.IsCompleted, "ten seconds after the grant, only two after the call finished");
        _time.Advance(TimeSpan.FromSeconds(0.2));

        Assert.True((await next.WaitAsync(TimeSpan.FromSeconds(10))).IsAcquired);
    }

    [Fact]
    public async Task APauseAfterA429HoldsEveryCallUntilItEnds()
    {
        using var budget = Budget(100, 60);
        budget.PauseUntil(_time.GetUtcNow().AddMilliseconds(400));

        var lease = budget.AcquireAsync().AsTask();
        _time.Advance(TimeSpan.FromMilliseconds(390));
        Assert.False(lease.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(20));

        Assert.True((await lease.WaitAsync(TimeSpan.FromSeconds(10))).IsAcquired);
    }

    [Fact]
    public void APauseIsNeverShortenedByALaterShorterOne()
    {
        using var budget = Budget(100, 60);
        var until = _time.GetUtcNow().AddSeconds(30);

        budget.PauseUntil(until);
        budget.PauseUntil(until.AddSeconds(-20));

        Assert.Equal(until, budget.PausedUntil);
    }

    [Fact]
    public async Task TheAppViewsOwnCountTightensTheBudget()
    {
        using var budget = Budget(100, 60);
        budget.ObserveServerBudget(remaining: 1, resetAt: _time.GetUtcNow().AddMilliseconds(500));

        var first = budget.AcquireAsync();
        Assert.True(first.IsCompleted, "the one remaining call goes at once");
        (await first).Dispose();
        var second = budget.AcquireAsync().AsTask();
        _time.Advance(TimeSpan.FromMilliseconds(490));
        Assert.False(second.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(20));

        Assert.True((await second.WaitAsync(TimeSpan.FromSeconds(10))).IsAcquired, "the next call waited for the reset");
    }

    [Fact]
    public async Task TheAppViewsCountNoLongerHoldsAfterItsReset()
    {
        using var budget = Budget(100, 60);
        budget.ObserveServerBudget(remaining: 0, resetAt: _time.GetUtcNow().AddSeconds(5));
        _time.Advance(TimeSpan.FromSeconds(5));

        var lease = budget.AcquireAsync();

        Assert.True(lease.IsCompleted);
        Assert.True((await lease).IsAcquired);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task APauseLongerThanCallsWaitIsRefusedAtOnceWithItsWait(bool by429)
    {
        using var budget = Budget(100, 60, maxRateLimitWaitSeconds: 60);
        var until = _time.GetUtcNow().AddHours(1);
        if (by429)
        {
            budget.PauseUntil(until);
        }
        else
        {
            budget.ObserveServerBudget(remaining: 0, resetAt: until);
        }

        var lease = budget.AcquireAsync();

        Assert.True(lease.IsCompleted, "nothing sits waiting for an hour");
        using var refused = await lease;
        Assert.False(refused.IsAcquired);
        Assert.True(refused.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter));
        Assert.InRange(retryAfter, TimeSpan.FromHours(1), TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task APauseWithinWhatCallsWaitIsWaitedOut()
    {
        using var budget = Budget(100, 60, maxRateLimitWaitSeconds: 60);
        budget.PauseUntil(_time.GetUtcNow().AddSeconds(59));

        var lease = budget.AcquireAsync().AsTask();
        Assert.False(lease.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(60));

        Assert.True((await lease.WaitAsync(TimeSpan.FromSeconds(10))).IsAcquired);
    }

    [Fact]
    public async Task StatisticsCountTheCallsInTheWindow()
    {
        using var budget = Budget(5, 10);
        (await budget.AcquireAsync(2)).Dispose();

        Assert.Equal(3, budget.GetStatistics()!.CurrentAvailablePermits);
        Assert.Equal(2, budget.UsedInWindow);
        _time.Advance(TimeSpan.FromSeconds(10.1));
        Assert.Equal(0, budget.UsedInWindow);
    }

    private LocalRateBudget Budget(int calls, int windowSeconds, int maxRateLimitWaitSeconds = 60) =>
        new(Microsoft.Extensions.Options.Options.Create(new RateBudgetOptions
        {
            BudgetCalls = calls,
            BudgetWindowSeconds = windowSeconds,
            MaxRateLimitWaitSeconds = maxRateLimitWaitSeconds,
        }), _time);
}
