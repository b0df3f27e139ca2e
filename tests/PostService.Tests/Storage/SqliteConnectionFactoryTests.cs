using Dapper;
using Microsoft.Extensions.DependencyInjection;
using PostService.Storage;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Storage;

public sealed class SqliteConnectionFactoryTests : IDisposable
{
    private readonly string _directory = TempDirectory.Create();

    public void Dispose() => TempDirectory.Delete(_directory);

    [Fact]
    public async Task EveryConnectionTheFactoryHandsOutHasTheConfiguredDurabilityAndTheDialectFunctions()
    {
        await using var services = CoreServices.For(Path.Combine(_directory, "compliance.db"));
        var connections = services.GetRequiredService<IDbConnectionFactory>();

        // The pool hands the same native connection out again: the settings must hold on every reuse, not only the first.
        for (var open = 0; open < 3; open++)
        {
            await using var connection = await connections.OpenAsync(CancellationToken.None);
            Assert.Equal("wal", await connection.ExecuteScalarAsync<string>("PRAGMA journal_mode"));
            Assert.Equal(2, await connection.ExecuteScalarAsync<long>("PRAGMA synchronous")); // FULL
            Assert.Equal(10_000, await connection.ExecuteScalarAsync<long>("PRAGMA busy_timeout"));
            Assert.Equal(1, await connection.ExecuteScalarAsync<long>("PRAGMA foreign_keys"));
            Assert.Equal(10_000, await connection.ExecuteScalarAsync<long>("PRAGMA wal_autocheckpoint"));
            Assert.Equal("2026-11-21T10:00:00.000Z", await connection.ExecuteScalarAsync<string>("SELECT ts_text(to_ts('2026-11-21T10:00:00.000Z'))"));
        }
    }
}
