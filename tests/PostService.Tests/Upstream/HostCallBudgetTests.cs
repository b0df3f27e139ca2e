using Microsoft.Extensions.Time.Testing;
using PostService.Upstream.Budget;

namespace PostService.Tests.Upstream;

/// <summary>The per-host budget of PDS calls: each host its own sliding window, tightened by what the host says.</summary>
public sealed class HostCallBudgetTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private HostCallBudget Budget(int limit = 3) => new(limit, TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(30), _time);

    [Fact]
    public void EachHostHasItsOwnBudgetOfCallsInAnyWindow()
    {
        var budget = Budget();
        Assert.All(Enumerable.Range(0, 3), _ => Assert.Equal(TimeSpan.Zero, budget.TryGrant("pds-a.example")));
        Assert.Equal(TimeSpan.FromMinutes(5), budget.TryGrant("pds-a.example"));
        Assert.Equal(TimeSpan.Zero, budget.TryGrant("pds-b.example"));

        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(TimeSpan.Zero, budget.TryGrant("pds-a.example"));
    }

    [Fact]
    public void TheHostsOwnCountTightensTheBudgetUntilItsReset()
    {
        var budget = Budget(limit: 100);
        budget.ObserveServerBudget("pds.example", remaining: 1, resetAt: _time.GetUtcNow().AddSeconds(40));
        Assert.Equal(TimeSpan.Zero, budget.TryGrant("pds.example"));
        Assert.Equal(TimeSpan.FromSeconds(40), budget.TryGrant("pds.example"));

        _time.Advance(TimeSpan.FromSeconds(40));
        Assert.Equal(TimeSpan.Zero, budget.TryGrant("pds.example"));
    }

    [Fact]
    public async Task AShortPauseIsWaitedOutAndALongOneIsRefusedWithItsLength()
    {
        var budget = Budget();
        budget.PauseUntil("pds.example", _time.GetUtcNow().AddSeconds(10));
        var waiting = budget.AcquireAsync("pds.example", CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.True((await waiting).IsAcquired);

        budget.PauseUntil("pds.example", _time.GetUtcNow().AddMinutes(10));
        using var refused = await budget.AcquireAsync("pds.example", CancellationToken.None);
        Assert.False(refused.IsAcquired);
        Assert.True(refused.TryGetMetadata(System.Threading.RateLimiting.MetadataName.RetryAfter, out var retryAfter));
        Assert.Equal(TimeSpan.FromMinutes(10), retryAfter);
    }
}
