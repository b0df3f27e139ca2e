namespace PostService.Bench;

/// <summary>
/// The store a benchmark writes to, from <c>--provider sqlite|postgres</c> and <c>--connection</c>: settings for a
/// fresh, empty database per measurement, so that the runs compared store the same rows into the same state.
/// </summary>
public sealed class BenchDatabase
{
    private BenchDatabase(string provider) => Provider = provider;

    public string Provider { get; }

    public string Description => "SQLite file in a temporary folder, WAL, synchronous=FULL";

    public static BenchDatabase Sqlite() => new("sqlite");

    public static BenchDatabase From(Arguments arguments) => arguments.String("provider", "sqlite") switch
    {
        "sqlite" => Sqlite(),
        // The PostgreSQL backend (issue #5) is not in this build; with it, --connection names a database to fill.
        "postgres" => throw new NotSupportedException(
            "--provider postgres: this build of PostService has no PostgreSQL backend yet (issue #5), so there is nothing to measure."),
        var other => throw new ArgumentException($"--provider must be sqlite or postgres, not '{other}'."),
    };

    /// <summary>Configuration keys for a new, empty database.</summary>
    public Dictionary<string, string?> Fresh() => new() { ["PostService:Database:Path"] = BenchHost.NewDatabasePath() };
}
