using System.ComponentModel.DataAnnotations;

namespace PostService.Options;

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary>Where the data lives. Bound from <c>PostService:Database</c>.</summary>
public sealed class DatabaseOptions
{
    public const string Section = "PostService:Database";

    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>The SQLite file; created when missing. Relative paths are resolved against the working directory.</summary>
    [Required]
    public string Path { get; set; } = "compliance.db";

    /// <summary>How long a SQLite statement waits for a lock held by another process (the CLI, a notebook).</summary>
    [Range(0, 600_000)]
    public int BusyTimeoutMs { get; set; } = 10_000;

    /// <summary>SQLite <c>synchronous</c> pragma. FULL makes every acknowledged batch survive power loss, not only a process crash.</summary>
    [RegularExpression("^(?i)(OFF|NORMAL|FULL|EXTRA)$")]
    public string Synchronous { get; set; } = "FULL";

    /// <summary>Apply pending schema migrations when the service starts.</summary>
    public bool MigrateOnStart { get; set; } = true;
}
