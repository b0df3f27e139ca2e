using Npgsql;

namespace PostService.Bench;

/// <summary>
/// The store a benchmark writes to, from <c>--provider sqlite|postgres</c> and <c>--connection</c>: settings for a
/// fresh, empty database per measurement, so that the runs compared store the same rows into the same state.
/// </summary>
public sealed class BenchDatabase
{
    private readonly string? _serverConnection;

    private BenchDatabase(string provider, string? serverConnection) => (Provider, _serverConnection) = (provider, serverConnection);

    public string Provider { get; }

    public string Description => _serverConnection is null
        ? "SQLite file in a temporary folder, WAL, synchronous=FULL"
        : $"PostgreSQL {new NpgsqlConnectionStringBuilder(_serverConnection) { Password = null }.Host}, a new database per measurement, fsync on, synchronous_commit on";

    public static BenchDatabase Sqlite() => new("sqlite", null);

    public static BenchDatabase From(Arguments arguments) => arguments.String("provider", "sqlite") switch
    {
        "sqlite" => Sqlite(),
        // --connection: a role that may create databases; each measurement gets its own, left for inspection.
        "postgres" => new BenchDatabase("postgres", arguments.String("connection", "")) is { _serverConnection.Length: > 0 } postgres
            ? postgres : throw new ArgumentException("--provider postgres needs --connection \"Host=...;Username=...\"."),
        var other => throw new ArgumentException($"--provider must be sqlite or postgres, not '{other}'."),
    };

    /// <summary>Configuration keys for a new, empty database.</summary>
    public Dictionary<string, string?> Fresh()
    {
        if (_serverConnection is null)
        {
            return new() { ["PostService:Database:Path"] = BenchHost.NewDatabasePath() };
        }
        var name = $"bench_{Guid.NewGuid():N}"[..20];
        using (var server = new NpgsqlConnection(_serverConnection))
        {
            server.Open();
            using var create = new NpgsqlCommand($"CREATE DATABASE {name}", server);
            create.ExecuteNonQuery();
        }
        return new()
        {
            ["PostService:Database:Provider"] = "Postgres",
            ["ConnectionStrings:Posts"] = new NpgsqlConnectionStringBuilder(_serverConnection) { Database = name }.ConnectionString,
        };
    }
}
