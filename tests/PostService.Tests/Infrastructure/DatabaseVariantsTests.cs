using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;
using PostService.Options;

namespace PostService.Tests.Infrastructure;

/// <summary>
/// The provider variants themselves: the same tests run on a fresh SQLite file and on a fresh PostgreSQL database
/// (skipped, with the reason, when PostgreSQL is unavailable).
/// </summary>
public abstract class DatabaseVariantsTests(DatabaseProvider provider) : IAsyncLifetime
{
    private string _directory = "";
    private string _connectionString = "";

    public sealed class OnSqlite() : DatabaseVariantsTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgres() : DatabaseVariantsTests(DatabaseProvider.Postgres), IRunsOnPostgres;

    public async Task InitializeAsync()
    {
        if (provider == DatabaseProvider.Postgres)
        {
            _connectionString = await PostgresServer.CreateDatabaseAsync();
        }
        else
        {
            _directory = TempDirectory.Create();
            _connectionString = $"Data Source={Path.Combine(_directory, "variants.db")};Pooling=false";
        }
    }

    public async Task DisposeAsync()
    {
        if (provider == DatabaseProvider.Postgres)
        {
            await PostgresServer.DropDatabaseAsync(_connectionString);
        }
        else
        {
            TempDirectory.Delete(_directory);
        }
    }

    [DatabaseFact]
    public async Task TheTestRunsOnTheDatabaseOfItsProvider()
    {
        await using var connection = await OpenAsync();

        var version = await connection.ExecuteScalarAsync<string>(
            provider == DatabaseProvider.Postgres ? "SELECT version()" : "SELECT 'SQLite ' || sqlite_version()");

        Assert.StartsWith(provider == DatabaseProvider.Postgres ? "PostgreSQL " : "SQLite ", version);
    }

    // Both rows create the same table: they would collide if tests shared a database.
    [DatabaseTheory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task EachTestStartsOnAnEmptyDatabase(int notes)
    {
        await using var connection = await OpenAsync();

        await connection.ExecuteAsync("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)");
        await connection.ExecuteAsync(
            "INSERT INTO notes (id, text) VALUES (@Id, @Text)", Enumerable.Range(1, notes).Select(id => new { Id = id, Text = $"note {id}" }));

        Assert.Equal(notes, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM notes"));
    }

    private async Task<DbConnection> OpenAsync()
    {
        DbConnection connection = provider == DatabaseProvider.Postgres
            ? new NpgsqlConnection(_connectionString)
            : new SqliteConnection(_connectionString);
        await connection.OpenAsync();
        return connection;
    }
}

/// <summary>A PostgreSQL-only test class: the marker alone makes its tests skip when PostgreSQL is unavailable.</summary>
public sealed class PostgresServerTests : IRunsOnPostgres
{
    [DatabaseFact]
    public async Task ADatabaseIsDroppedEvenWhileConnectionsToItAreOpen()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync();
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        await using var stillOpen = new NpgsqlConnection(connectionString);
        await stillOpen.OpenAsync();

        await PostgresServer.DropDatabaseAsync(connectionString);

        await using var server = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Database = "postgres" }.ConnectionString);
        Assert.Equal(0, await server.ExecuteScalarAsync<long>("SELECT count(*) FROM pg_database WHERE datname = @name", new { name }));
    }

    // Refused before any connection is made, so this one needs no server.
    [Fact]
    public async Task OnlyDatabasesMadeForTestsCanBeDropped() =>
        await Assert.ThrowsAsync<ArgumentException>(() => PostgresServer.DropDatabaseAsync("Host=127.0.0.1;Database=postgres"));
}
