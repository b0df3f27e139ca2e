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

    [Fact]
    public async Task WritesRunWithTheConfiguredDurabilityAndTheWritersLargerPageCache()
    {
        await using var services = CoreServices.For(Path.Combine(_directory, "compliance.db"));
        var connections = services.GetRequiredService<IDbConnectionFactory>();

        for (var write = 0; write < 2; write++)
        {
            var (synchronous, foreignKeys, cacheKiB, time) = await connections.WriteAsync(async (connection, transaction) => (
                await connection.ExecuteScalarAsync<long>("PRAGMA synchronous", transaction: transaction),
                await connection.ExecuteScalarAsync<long>("PRAGMA foreign_keys", transaction: transaction),
                await connection.ExecuteScalarAsync<long>("PRAGMA cache_size", transaction: transaction),
                await connection.ExecuteScalarAsync<string>("SELECT ts_text(to_ts('2026-11-21T10:00:00.000Z'))", transaction: transaction)),
                CancellationToken.None);
            Assert.Equal(2, synchronous); // FULL
            Assert.Equal(1, foreignKeys);
            Assert.Equal(-32 * 1024, cacheKiB);
            Assert.Equal("2026-11-21T10:00:00.000Z", time);
        }
        await using var reader = await connections.OpenAsync(CancellationToken.None);
        Assert.Equal(-2000, await reader.ExecuteScalarAsync<long>("PRAGMA cache_size"));
    }

    [Fact]
    public async Task WritesReachTheDatabaseFileWhileTheFactoryIsOpenOnceTheWalHoldsAfewHundredPages()
    {
        var path = Path.Combine(_directory, "compliance.db");
        await using var services = CoreServices.For(path, new Dictionary<string, string?> { ["PostService:Database:WalAutoCheckpointPages"] = "100" });
        var connections = services.GetRequiredService<IDbConnectionFactory>();
        await connections.WriteAsync((connection, transaction) => connection.ExecuteAsync("CREATE TABLE notes (body BLOB)", transaction: transaction), CancellationToken.None);

        // 25 writes of 40 KB: about 275 WAL pages, more than twice the setting, and below the writer's own bound (400).
        for (var write = 0; write < 25; write++)
        {
            var body = new byte[40_000];
            Random.Shared.NextBytes(body);
            await connections.WriteAsync((connection, transaction) =>
                connection.ExecuteAsync("INSERT INTO notes VALUES (@body)", new { body }, transaction), CancellationToken.None);
        }

        // Copied by a checkpoint beside the writer: without one the pages would stay in the WAL until the file is closed.
        await Eventually.TrueAsync(() => new FileInfo(path).Length > 600_000, "the database file holds the checkpointed pages");
        await using var reader = await connections.OpenAsync(CancellationToken.None);
        Assert.Equal(25, await reader.ExecuteScalarAsync<long>("SELECT count(*) FROM notes"));
    }

    [Fact]
    public async Task AWriteThatFailsIsUndoneAloneWhileTheWritesWaitingWithItAreStored()
    {
        await using var services = CoreServices.For(Path.Combine(_directory, "compliance.db"));
        var connections = services.GetRequiredService<IDbConnectionFactory>();
        await connections.WriteAsync((connection, transaction) => connection.ExecuteAsync("CREATE TABLE notes (text TEXT)", transaction: transaction), CancellationToken.None);
        Task<int> Insert(string text) => connections.WriteAsync(
            (connection, transaction) => connection.ExecuteAsync("INSERT INTO notes VALUES (@text)", new { text }, transaction), CancellationToken.None);

        // The first write holds the writer until released; the two behind it are written together after it.
        var release = new TaskCompletionSource();
        var first = connections.WriteAsync(async (connection, transaction) =>
        {
            await release.Task;
            return await connection.ExecuteAsync("INSERT INTO notes VALUES ('first')", transaction: transaction);
        }, CancellationToken.None);
        var failing = connections.WriteAsync<int>(async (connection, transaction) =>
        {
            await connection.ExecuteAsync("INSERT INTO notes VALUES ('failing')", transaction: transaction);
            throw new InvalidOperationException("this write fails");
        }, CancellationToken.None);
        var second = Insert("second");
        release.SetResult();

        Assert.Equal(1, await first);
        Assert.Equal("this write fails", (await Assert.ThrowsAsync<InvalidOperationException>(() => failing)).Message);
        Assert.Equal(1, await second);
        await using var reader = await connections.OpenAsync(CancellationToken.None);
        Assert.Equal(["first", "second"], await reader.QueryAsync<string>("SELECT text FROM notes ORDER BY rowid"));
        Assert.Equal(1, await Insert("after"));
    }
}
