using System.Data.Common;
using Dapper;

namespace PostService.Storage.Migrations;

/// <summary>
/// What the firehose consumer keeps: recent posts (<c>firehose_posts</c>), a DID → handle cache, engagement counted
/// per post, and the checkpoint and lease of each firehose URL (<c>firehose_cursor</c>); and the tombstone of a served
/// post its author deleted (<c>posts.deleted_at</c>).
/// </summary>
public sealed class M010_Firehose : IMigration
{
    private static readonly (string Name, string Definition)[] PostColumns = [("deleted_at", "TEXT")];

    private const string CreateSqlite = """
        CREATE TABLE IF NOT EXISTS firehose_posts (
            uri              TEXT PRIMARY KEY,
            did              TEXT NOT NULL,
            cid              TEXT NOT NULL,
            created_at       TEXT,
            text             TEXT,
            langs            TEXT,
            reply_parent_uri TEXT,
            reply_root_uri   TEXT,
            embed_type       TEXT,
            quoted_uri       TEXT,
            hashtags         TEXT,
            seen_at          TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS firehose_handles (
            did        TEXT PRIMARY KEY,
            handle     TEXT,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS firehose_counts (
            uri          TEXT PRIMARY KEY,
            like_count   INTEGER NOT NULL DEFAULT 0,
            repost_count INTEGER NOT NULL DEFAULT 0,
            reply_count  INTEGER NOT NULL DEFAULT 0,
            quote_count  INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE IF NOT EXISTS firehose_cursor (
            source_url   TEXT PRIMARY KEY,
            cursor       INTEGER,
            updated_at   TEXT NOT NULL,
            leased_by    TEXT,
            leased_until TEXT
        );
        """;

    private const string CreatePostgres = """
        ALTER TABLE posts ADD COLUMN IF NOT EXISTS deleted_at timestamptz;
        CREATE TABLE IF NOT EXISTS firehose_posts (
            uri              text PRIMARY KEY,
            did              text NOT NULL,
            cid              text NOT NULL,
            created_at       timestamptz,
            text             text,
            langs            jsonb,
            reply_parent_uri text,
            reply_root_uri   text,
            embed_type       text,
            quoted_uri       text,
            hashtags         jsonb,
            seen_at          timestamptz NOT NULL
        );
        CREATE TABLE IF NOT EXISTS firehose_handles (
            did        text PRIMARY KEY,
            handle     text,
            updated_at timestamptz NOT NULL
        );
        CREATE TABLE IF NOT EXISTS firehose_counts (
            uri          text PRIMARY KEY,
            like_count   bigint NOT NULL DEFAULT 0,
            repost_count bigint NOT NULL DEFAULT 0,
            reply_count  bigint NOT NULL DEFAULT 0,
            quote_count  bigint NOT NULL DEFAULT 0
        );
        CREATE TABLE IF NOT EXISTS firehose_cursor (
            source_url   text PRIMARY KEY,
            cursor       bigint,
            updated_at   timestamptz NOT NULL,
            leased_by    text,
            leased_until timestamptz
        );
        """;

    // Retention prunes by seen_at.
    private const string CreateIndexes = "CREATE INDEX IF NOT EXISTS idx_firehose_posts_seen_at ON firehose_posts(seen_at);";

    public int Version => 10;

    public string Name => "firehose: recent posts, DID handles, engagement counts, cursor and lease; posts.deleted_at";

    public async Task ApplySqliteAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await SqliteSchema.AddMissingColumnsAsync(connection, transaction, "posts", PostColumns);
        await connection.ExecuteAsync(CreateSqlite, transaction: transaction);
        await connection.ExecuteAsync(CreateIndexes, transaction: transaction);
    }

    public async Task ApplyPostgresAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(CreatePostgres, transaction: transaction);
        await connection.ExecuteAsync(CreateIndexes, transaction: transaction);
    }
}
