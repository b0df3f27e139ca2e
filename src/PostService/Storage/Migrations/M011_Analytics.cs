using System.Data.Common;
using Dapper;

namespace PostService.Storage.Migrations;

/// <summary>
/// The analytics tables: analysts' tags on posts (<c>tags</c>, <c>post_tags</c>) and the replayable log of accepted
/// request bodies (<c>ingest_events</c>), engagement over time (<c>post_metric_snapshots</c>), hashtags and their
/// hourly statistics (<c>hashtags</c>, <c>post_hashtags</c>, <c>hashtag_hourly_stats</c>).
/// </summary>
public sealed class M011_Analytics(SqlDialect dialect) : IMigration
{
    private const string CreateSqlite = """
        CREATE TABLE IF NOT EXISTS tags (
            name        TEXT PRIMARY KEY,
            description TEXT,
            color       TEXT,
            created_at  TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS post_tags (
            post_uri   TEXT NOT NULL REFERENCES posts(post_uri),
            tag        TEXT NOT NULL REFERENCES tags(name) ON DELETE CASCADE,
            applied_by TEXT NOT NULL CHECK (applied_by IN ('user', 'rule', 'model')),
            confidence REAL CHECK (confidence BETWEEN 0 AND 1),
            notes      TEXT,
            version    TEXT,
            created_at TEXT NOT NULL,
            PRIMARY KEY (post_uri, tag)
        );
        CREATE TABLE IF NOT EXISTS ingest_events (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            received_at  TEXT NOT NULL,
            body         BLOB NOT NULL,
            retrievals   INTEGER NOT NULL,
            processed_at TEXT,
            error        TEXT
        );
        CREATE TABLE IF NOT EXISTS post_metric_snapshots (
            post_uri     TEXT NOT NULL REFERENCES posts(post_uri),
            captured_at  TEXT NOT NULL,
            like_count   INTEGER,
            repost_count INTEGER,
            reply_count  INTEGER,
            quote_count  INTEGER,
            source       TEXT NOT NULL CHECK (source IN ('appview', 'firehose', 'repo')),
            PRIMARY KEY (post_uri, captured_at)
        );
        CREATE TABLE IF NOT EXISTS hashtags (
            id            INTEGER PRIMARY KEY AUTOINCREMENT,
            name          TEXT NOT NULL UNIQUE,
            first_seen_at TEXT NOT NULL,
            last_seen_at  TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS post_hashtags (
            post_uri   TEXT NOT NULL REFERENCES posts(post_uri),
            hashtag_id INTEGER NOT NULL REFERENCES hashtags(id),
            PRIMARY KEY (post_uri, hashtag_id)
        );
        CREATE TABLE IF NOT EXISTS hashtag_hourly_stats (
            hashtag_id     INTEGER NOT NULL REFERENCES hashtags(id),
            hour           TEXT NOT NULL,
            posts          INTEGER NOT NULL,
            unique_authors INTEGER NOT NULL,
            times_served   INTEGER NOT NULL,
            engagement     INTEGER NOT NULL,
            PRIMARY KEY (hashtag_id, hour)
        );
        """;

    private const string CreatePostgres = """
        CREATE TABLE IF NOT EXISTS tags (
            name        text PRIMARY KEY,
            description text,
            color       text,
            created_at  timestamptz NOT NULL
        );
        CREATE TABLE IF NOT EXISTS post_tags (
            post_uri   text NOT NULL REFERENCES posts(post_uri),
            tag        text NOT NULL REFERENCES tags(name) ON DELETE CASCADE,
            applied_by text NOT NULL CHECK (applied_by IN ('user', 'rule', 'model')),
            confidence double precision CHECK (confidence BETWEEN 0 AND 1),
            notes      text,
            version    text,
            created_at timestamptz NOT NULL,
            PRIMARY KEY (post_uri, tag)
        );
        CREATE TABLE IF NOT EXISTS ingest_events (
            id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            received_at  timestamptz NOT NULL,
            body         bytea NOT NULL,
            retrievals   integer NOT NULL,
            processed_at timestamptz,
            error        text
        );
        CREATE TABLE IF NOT EXISTS post_metric_snapshots (
            post_uri     text NOT NULL REFERENCES posts(post_uri),
            captured_at  timestamptz NOT NULL,
            like_count   bigint,
            repost_count bigint,
            reply_count  bigint,
            quote_count  bigint,
            source       text NOT NULL CHECK (source IN ('appview', 'firehose', 'repo')),
            PRIMARY KEY (post_uri, captured_at)
        );
        CREATE TABLE IF NOT EXISTS hashtags (
            id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name          text NOT NULL UNIQUE,
            first_seen_at timestamptz NOT NULL,
            last_seen_at  timestamptz NOT NULL
        );
        CREATE TABLE IF NOT EXISTS post_hashtags (
            post_uri   text NOT NULL REFERENCES posts(post_uri),
            hashtag_id bigint NOT NULL REFERENCES hashtags(id),
            PRIMARY KEY (post_uri, hashtag_id)
        );
        CREATE TABLE IF NOT EXISTS hashtag_hourly_stats (
            hashtag_id     bigint NOT NULL REFERENCES hashtags(id),
            hour           timestamptz NOT NULL,
            posts          bigint NOT NULL,
            unique_authors bigint NOT NULL,
            times_served   bigint NOT NULL,
            engagement     bigint NOT NULL,
            PRIMARY KEY (hashtag_id, hour)
        );
        """;

    // Listing a tag's or a hashtag's posts walks them in post URI order; pruning the event log and replaying a time range
    // read it by time; velocity reads the snapshots of a window; hashtag stats read the requests of a window, trending
    // the stats of one.
    private const string CreateIndexes = """
        CREATE INDEX IF NOT EXISTS idx_post_tags_tag ON post_tags(tag, post_uri);
        CREATE INDEX IF NOT EXISTS idx_ingest_events_received ON ingest_events(received_at);
        CREATE INDEX IF NOT EXISTS idx_post_metric_snapshots_captured ON post_metric_snapshots(captured_at);
        CREATE INDEX IF NOT EXISTS idx_post_hashtags_hashtag ON post_hashtags(hashtag_id, post_uri);
        CREATE INDEX IF NOT EXISTS idx_feed_requests_timestamp ON feed_requests(timestamp);
        CREATE INDEX IF NOT EXISTS idx_hashtag_hourly_stats_hour ON hashtag_hourly_stats(hour);
        """;

    public int Version => 11;

    public string Name => "analytics: tags, post_tags, ingest_events, post_metric_snapshots, hashtags, post_hashtags, hashtag_hourly_stats";

    public async Task ApplyAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(dialect.Choose(CreateSqlite, CreatePostgres), transaction: transaction);
        await connection.ExecuteAsync(CreateIndexes, transaction: transaction);
    }
}
