using System.Data.Common;
using Dapper;

namespace PostService.Data.Migrations;

/// <summary>What hydration stores beyond the original layout: post metadata, retry bookkeeping and the run log.</summary>
public sealed class M002_HydrationColumns : IMigration
{
    private static readonly (string Name, string Definition)[] PostColumns =
    [
        ("text", "TEXT"),
        ("langs", "TEXT"),
        ("reply_parent_uri", "TEXT"),
        ("reply_root_uri", "TEXT"),
        ("embed_type", "TEXT"),
        ("like_count", "INTEGER"),
        ("repost_count", "INTEGER"),
        ("reply_count", "INTEGER"),
        ("quote_count", "INTEGER"),
        ("attempts", "INTEGER NOT NULL DEFAULT 0"),
        ("next_attempt_at", "TEXT"),
        ("metadata_source", "TEXT"),
    ];

    private const string CreateRunsTable = """
        CREATE TABLE IF NOT EXISTS hydration_runs (
            run_id         INTEGER PRIMARY KEY AUTOINCREMENT,
            trigger        TEXT NOT NULL,
            force          INTEGER NOT NULL DEFAULT 0,
            refresh        INTEGER NOT NULL DEFAULT 0,
            started_at     TEXT NOT NULL,
            finished_at    TEXT,
            status         TEXT NOT NULL,
            attempted      INTEGER NOT NULL DEFAULT 0,
            hydrated       INTEGER NOT NULL DEFAULT 0,
            not_found      INTEGER NOT NULL DEFAULT 0,
            errors         INTEGER NOT NULL DEFAULT 0,
            skipped_cached INTEGER NOT NULL DEFAULT 0,
            api_calls      INTEGER NOT NULL DEFAULT 0,
            rate_limited   INTEGER NOT NULL DEFAULT 0,
            retries        INTEGER NOT NULL DEFAULT 0
        );
        """;

    // The sweep pages through one status at a time in URI order.
    private const string CreateIndexes = """
        CREATE INDEX IF NOT EXISTS idx_posts_status_uri ON posts(hydration_status, post_uri);
        """;

    public int Version => 2;

    public string Name => "hydration: post metadata columns, retry bookkeeping, hydration_runs";

    public async Task ApplyAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await SqliteSchema.AddMissingColumnsAsync(connection, transaction, "posts", PostColumns);
        await connection.ExecuteAsync(CreateRunsTable, transaction: transaction);
        await connection.ExecuteAsync(CreateIndexes, transaction: transaction);
    }
}
