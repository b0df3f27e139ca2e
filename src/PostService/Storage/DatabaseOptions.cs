using System.ComponentModel.DataAnnotations;

namespace PostService.Storage;

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary>Where the data lives. Bound from <c>PostService:Database</c>.</summary>
public sealed class DatabaseOptions
{
    public const string Section = "PostService:Database";

    /// <summary>The connection string name that holds the PostgreSQL connection (<c>ConnectionStrings__Posts</c>).</summary>
    public const string ConnectionStringName = "Posts";

    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>The provider configured, read before the container is built, where stores are chosen once.</summary>
    public static DatabaseProvider ProviderOf(IConfiguration configuration) =>
        configuration.GetSection(Section).GetValue(nameof(Provider), DatabaseProvider.Sqlite);

    /// <summary>The Npgsql connection string, from <c>ConnectionStrings:Posts</c>; required when <see cref="Provider"/> is Postgres.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The SQLite file (Provider Sqlite); created when missing. Relative paths are resolved against the working directory.</summary>
    [Required]
    public string Path { get; set; } = "compliance.db";

    /// <summary>How long a SQLite statement waits for a lock held by another process (the CLI, a notebook).</summary>
    [Range(0, 600_000)]
    public int BusyTimeoutMs { get; set; } = 10_000;

    /// <summary>SQLite <c>synchronous</c> pragma. FULL makes every acknowledged batch survive power loss, not only a process crash.</summary>
    [RegularExpression("^(?i)(OFF|NORMAL|FULL|EXTRA)$")]
    public string Synchronous { get; set; } = "FULL";

    /// <summary>
    /// SQLite: WAL pages written before they are copied into the database file (a checkpoint). Ingestion commits often
    /// and touches the same index pages again and again; checkpointing every 10,000 pages (about 40 MB) instead of
    /// SQLite's 1,000 writes each page once where it would write it up to ten times (measured: HTTP ingestion 16,000 →
    /// 23,000 posts/s). The checkpoint runs beside the writer, on a connection of its own (<see cref="SqliteCheckpointer"/>);
    /// the WAL file grows to that size and what the writer appends during a checkpoint (84 MB at a million posts in the
    /// memory benchmark); the writer checkpoints itself only if it reaches four times the setting.
    /// </summary>
    [Range(100, 1_000_000)]
    public int WalAutoCheckpointPages { get; set; } = 10_000;

    /// <summary>
    /// SQLite: the page cache of the connection every write goes through, in MiB. Ingestion looks up and inserts posts by
    /// URI, a random key; with the default 2 MiB most of that index's pages were read again from the file system on
    /// every transaction (measured when <c>feed_request_posts</c> was indexed by URI too; migration 14 replaced that
    /// index by one that grows at its end). Readers keep SQLite's default.
    /// </summary>
    [Range(2, 4_096)]
    public int WriterCacheMiB { get; set; } = 32;

    /// <summary>Apply pending schema migrations when the service starts.</summary>
    public bool MigrateOnStart { get; set; } = true;
}
