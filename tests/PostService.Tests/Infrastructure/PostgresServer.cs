using System.Text.RegularExpressions;
using Npgsql;

namespace PostService.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL server the tests may use, named by the Npgsql connection string in
/// <c>POSTSERVICE_TEST_POSTGRES</c> (<c>scripts/test.sh</c> starts a throwaway one with <c>scripts/postgres.sh</c>
/// and sets it). Each test gets a database of its own from <see cref="CreateDatabase"/>.
/// </summary>
public static partial class PostgresServer
{
    public const string EnvironmentVariable = "POSTSERVICE_TEST_POSTGRES";

    private const int ProbeTimeoutSeconds = 5;

    private static readonly Lazy<string?> Probe = new(ProbeOnce);

    /// <summary>Why the PostgreSQL tests are skipped, or null when the server answers. Probed once per test run.</summary>
    public static string? UnavailableReason => Probe.Value;

    private static string? ServerConnectionString =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } connectionString ? connectionString : null;

    /// <summary>Creates a fresh, empty database (<c>ps_test_&lt;guid&gt;</c>) and returns the connection string to it.</summary>
    public static string CreateDatabase()
    {
        if (UnavailableReason is { } reason)
        {
            throw new InvalidOperationException(reason);
        }
        var name = $"ps_test_{Guid.NewGuid():N}";
        ExecuteOnServer($"CREATE DATABASE {name}");
        return new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>
    /// Drops a database made by <see cref="CreateDatabase"/>, even while connections to it are still open.
    /// Refuses any other database name, so a wrong connection string can never drop real data.
    /// </summary>
    public static void DropDatabase(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database ?? "";
        if (!TestDatabaseName().IsMatch(name))
        {
            throw new ArgumentException($"'{name}' is not a database made by {nameof(CreateDatabase)}", nameof(connectionString));
        }
        // Idle pooled connections would otherwise be cut by the drop and fail the next test that takes one.
        using (var pooled = new NpgsqlConnection(connectionString))
        {
            NpgsqlConnection.ClearPool(pooled);
        }
        ExecuteOnServer($"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    }

    // Synchronous: test classes create their database in a constructor.
    private static void ExecuteOnServer(string sql)
    {
        using var connection = new NpgsqlConnection(ServerConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    private static string? ProbeOnce()
    {
        if (ServerConnectionString is not { } server)
        {
            return $"PostgreSQL is not configured: {EnvironmentVariable} is not set (scripts/test.sh starts a throwaway server and sets it)";
        }
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(server) { Timeout = ProbeTimeoutSeconds, Pooling = false };
        }
        catch (ArgumentException exception)
        {
            return $"{EnvironmentVariable} is not a valid Npgsql connection string ({exception.Message})";
        }
        try
        {
            using var connection = new NpgsqlConnection(builder.ConnectionString);
            connection.Open();
            using var command = new NpgsqlCommand("SELECT 1", connection);
            command.ExecuteScalar();
            return null;
        }
        catch (Exception exception) when (exception is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return $"PostgreSQL at {builder.Host}:{builder.Port} does not answer ({exception.GetType().Name}: {exception.Message})";
        }
    }

    [GeneratedRegex("^ps_test_[0-9a-f]{32}$")]
    private static partial Regex TestDatabaseName();
}
