using System.Data.Common;
using Dapper;

namespace PostService.Storage.Migrations;

/// <summary>
/// The analytics tables: analysts' tags on posts (<c>tags</c>, <c>post_tags</c>).
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
        """;

    // Listing a tag's posts walks this index in post URI order.
    private const string CreateIndexes = "CREATE INDEX IF NOT EXISTS idx_post_tags_tag ON post_tags(tag, post_uri);";

    public int Version => 11;

    public string Name => "analytics: tags, post_tags";

    public async Task ApplyAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(dialect.Choose(CreateSqlite, CreatePostgres), transaction: transaction);
        await connection.ExecuteAsync(CreateIndexes, transaction: transaction);
    }
}
