using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using PostService.Storage;
using PostService.Tests.Infrastructure;
using PostService.Upstream.Budget;

namespace PostService.Tests.Upstream;

/// <summary>The budget is chosen once by the database: alone on SQLite, shared by the replicas on PostgreSQL.</summary>
public abstract class RateBudgetChoiceTests(DatabaseProvider provider) : IDisposable
{
    public sealed class OnSqlite() : RateBudgetChoiceTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgres() : RateBudgetChoiceTests(DatabaseProvider.Postgres), IRunsOnPostgres;

    private readonly PostServiceFactory _service = new(
        new Dictionary<string, string?> { ["PostService:Hydration:Enabled"] = "false" }, provider: provider);

    public void Dispose() => _service.Dispose();

    [DatabaseFact]
    public async Task ASecondReplicaGetsNoCallTheFirstHasUsedUp()
    {
        using var first = Budget();
        using var second = Budget();
        using (await first.AcquireAsync(2))
        {
        }

        using var patience = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        var secondCall = second.AcquireAsync(1, patience.Token).AsTask();

        if (provider == DatabaseProvider.Postgres)
        {
            // The budget is shared: the second replica waits for the window, here longer than it is willing to.
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => secondCall);
            Assert.IsType<SharedRateBudget>(_service.Services.GetRequiredService<RateBudget>());
        }
        else
        {
            // A process alone on its file has a budget of its own.
            using var granted = await secondCall;
            Assert.True(granted.IsAcquired);
            Assert.IsType<LocalRateBudget>(_service.Services.GetRequiredService<RateBudget>());
        }
    }

    /// <summary>A replica's budget of 2 calls a minute, as the service would build it on this database.</summary>
    private RateBudget Budget()
    {
        var options = Microsoft.Extensions.Options.Options.Create(new RateBudgetOptions { BudgetCalls = 2, BudgetWindowSeconds = 60 });
        return provider == DatabaseProvider.Postgres
            ? new SharedRateBudget(options, TimeProvider.System, _service.Services.GetRequiredService<AppViewCallLog>(), NullLogger<SharedRateBudget>.Instance)
            : new LocalRateBudget(options, TimeProvider.System);
    }
}
