using System.Data.Common;
using Dapper;

namespace PostService.Storage.Migrations;

/// <summary>
/// What the protocol's own sources add: why the AppView left a post out (<c>not_found_reason</c>), the DID form of a
/// handle-based URI (<c>resolved_uri</c>), and the tables of the repository backfill (<c>repo_backfill_jobs</c>,
/// <c>repo_records</c>).
/// </summary>
public sealed class M009_IdentityAndRepositories : IMigration
{
    private static readonly (string Name, string Definition)[] PostColumns = [("not_found_reason", "TEXT"), ("resolved_uri", "TEXT")];

    private const string CreateSqliteTables = """
        CREATE TABLE IF NOT EXISTS repo_backfill_jobs (
            did           TEXT PRIMARY KEY,
            status        TEXT NOT NULL,
            since         TEXT,
            until         TEXT,
            collections   TEXT,
            rev           TEXT,
            records       INTEGER NOT NULL DEFAULT 0,
            undated       INTEGER NOT NULL DEFAULT 0,
            bytes         INTEGER NOT NULL DEFAULT 0,
            error         TEXT,
            claimed_by    TEXT,
            claimed_until TEXT,
            enqueued_at   TEXT NOT NULL,
            started_at    TEXT,
            finished_at   TEXT
        );
        CREATE TABLE IF NOT EXISTS repo_records (
            uri           TEXT PRIMARY KEY,
            did           TEXT NOT NULL,
            collection    TEXT NOT NULL,
            rkey          TEXT NOT NULL,
            cid           TEXT NOT NULL,
            record_type   TEXT NOT NULL,
            created_at    TEXT,
            subject_uri   TEXT,
            subject_did   TEXT,
            record_json   TEXT NOT NULL,
            backfilled_at TEXT NOT NULL
        );
        """;

    private const string CreatePostgres = """
        ALTER TABLE posts ADD COLUMN IF NOT EXISTS not_found_reason text, ADD COLUMN IF NOT EXISTS resolved_uri text;
        CREATE TABLE IF NOT EXISTS repo_backfill_jobs (
            did           text PRIMARY KEY,
            status        text NOT NULL,
            since         timestamptz,
            until         timestamptz,
            collections   text,
            rev           text,
            records       bigint NOT NULL DEFAULT 0,
            undated       bigint NOT NULL DEFAULT 0,
            bytes         bigint NOT NULL DEFAULT 0,
            error         text,
            claimed_by    text,
            claimed_until timestamptz,
            enqueued_at   timestamptz NOT NULL,
            started_at    timestamptz,
            finished_at   timestamptz
        );
        CREATE TABLE IF NOT EXISTS repo_records (
            uri           text PRIMARY KEY,
            did           text NOT NULL,
            collection    text NOT NULL,
            rkey          text NOT NULL,
            cid           text NOT NULL,
            record_type   text NOT NULL,
            created_at    timestamptz,
            subject_uri   text,
            subject_did   text,
            record_json   jsonb NOT NULL,
            backfilled_at timestamptz NOT NULL
        );
        """;

    // Coverage counts not_found posts by reason, and the retry of unknown reasons finds its rows, without a scan of posts.
    private const string CreateIndexes = """
        CREATE INDEX IF NOT EXISTS idx_posts_not_found_reason ON posts(not_found_reason, next_attempt_at) WHERE hydration_status = 'not_found';
        CREATE INDEX IF NOT EXISTS idx_posts_resolved_uri ON posts(resolved_uri) WHERE resolved_uri IS NOT NULL;
        CREATE INDEX IF NOT EXISTS idx_repo_backfill_jobs_status ON repo_backfill_jobs(status, did);
        CREATE INDEX IF NOT EXISTS idx_repo_records_did ON repo_records(did, created_at);
        CREATE INDEX IF NOT EXISTS idx_repo_records_subject ON repo_records(subject_uri) WHERE subject_uri IS NOT NULL;
        """;

    public int Version => 9;

    public string Name => "identity: not_found_reason, resolved_uri; repository backfill: repo_backfill_jobs, repo_records";

    public async Task ApplySqliteAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await SqliteSchema.AddMissingColumnsAsync(connection, transaction, "posts", PostColumns);
        await connection.ExecuteAsync(CreateSqliteTables, transaction: transaction);
        await connection.ExecuteAsync(CreateIndexes, transaction: transaction);
    }

    public async Task ApplyPostgresAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(CreatePostgres, transaction: transaction);
        await connection.ExecuteAsync(CreateIndexes, transaction: transaction);
    }
}
