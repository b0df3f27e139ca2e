using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;
using PostService.Storage;

namespace PostService.Tests.Infrastructure;

/// <summary>
/// A database for one test: a SQLite file in a fresh temporary folder, or a fresh PostgreSQL database on the server
/// scripts/test.sh started. Its <see cref="Settings"/> point the service at it, as an operator's environment would.
/// </summary>
public sealed class TestDatabase : IDisposable
{
    private readonly string? _directory;
    private readonly string? _connectionString;
    private readonly bool _owned;

    private TestDatabase(DatabaseProvider provider, string? directory, string? path, string? connectionString, bool owned) =>
        (Provider, _directory, Path, _connectionString, _owned) = (provider, directory, path, connectionString, owned);

    public static TestDatabase Create(DatabaseProvider provider)
    {
        if (provider == DatabaseProvider.Postgres)
        {
            return new TestDatabase(provider, null, null, PostgresServer.CreateDatabase(), owned: true);
        }
        var directory = TempDirectory.Create();
        return new TestDatabase(provider, directory, System.IO.Path.Combine(directory, "compliance.db"), null, owned: true);
    }

    /// <summary>A SQLite file the test made itself (a legacy file, a copy); it is left where it is.</summary>
    public static TestDatabase ForFile(string path) => new(DatabaseProvider.Sqlite, null, path, null, owned: false);

    public DatabaseProvider Provider { get; }

    /// <summary>The SQLite file; null on PostgreSQL.</summary>
    public string? Path { get; }

    public string ConnectionString => _connectionString ?? throw new InvalidOperationException("A SQLite test database has a path, not a connection string.");

    public IReadOnlyDictionary<string, string?> Settings => Provider == DatabaseProvider.Postgres
        ? new Dictionary<string, string?>
        {
            ["PostService:Database:Provider"] = nameof(DatabaseProvider.Postgres),
            ["ConnectionStrings:Posts"] = _connectionString,
        }
        : new Dictionary<string, string?> { ["PostService:Database:Path"] = Path };

    /// <summary>
    /// A connection of the test's own, for checking what was really stored. It knows the functions the service's SQL
    /// uses on both stores (<c>to_ts</c>, <c>ts_text</c>, <c>to_json_doc</c>), so a test's SQL can be written once too.
    /// </summary>
    public DbConnection Open()
    {
        if (Provider == DatabaseProvider.Postgres)
        {
            var postgres = new NpgsqlConnection(_connectionString);
            postgres.Open();
            return postgres;
        }
        var sqlite = new SqliteConnection($"Data Source={Path};Pooling=false");
        sqlite.Open();
        SqliteConnectionFactory.AddDialectFunctions(sqlite);
        return sqlite;
    }

    public long Count(string sql, object? parameters = null)
    {
        using var connection = Open();
        return connection.ExecuteScalar<long>(sql, parameters);
    }

    public void Dispose()
    {
        if (!_owned)
        {
            return;
        }
        if (Provider == DatabaseProvider.Postgres)
        {
            PostgresServer.DropDatabase(_connectionString!);
        }
        else
        {
            SqliteConnection.ClearAllPools();
            TempDirectory.Delete(_directory!);
        }
    }
}
