using Dapper;
using Npgsql;

namespace PostService.Tests.Infrastructure;

/// <summary>The throwaway databases themselves; the marker alone makes these skip when PostgreSQL is unavailable.</summary>
public sealed class PostgresServerTests : IRunsOnPostgres
{
    [DatabaseFact]
    public async Task ADatabaseIsDroppedEvenWhileConnectionsToItAreOpen()
    {
        var connectionString = PostgresServer.CreateDatabase();
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        await using var stillOpen = new NpgsqlConnection(connectionString);
        await stillOpen.OpenAsync();

        PostgresServer.DropDatabase(connectionString);

        await using var server = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Database = "postgres" }.ConnectionString);
        Assert.Equal(0, await server.ExecuteScalarAsync<long>("SELECT count(*) FROM pg_database WHERE datname = @name", new { name }));
    }

    // Refused before any connection is made, so this one needs no server.
    [Fact]
    public void OnlyDatabasesMadeForTestsCanBeDropped() =>
        Assert.Throws<ArgumentException>(() => PostgresServer.DropDatabase("Host=127.0.0.1;Database=postgres"));
}
