using System.Data.Common;
using Dapper;

namespace PostService.Storage.Migrations;

/// <summary>
/// <c>author_handles</c>: every handle the AppView gave an author's DID, with the first and last fetch that saw it
/// (<c>posts.author_handle</c> stays the handle at the post's latest fetch). Started from the handles the posts
/// already hold, seen at their last hydration.
/// </summary>
public sealed class M012_AuthorHandles : IMigration
{
    private const string CreateSqlite = """
        CREATE TABLE IF NOT EXISTS author_handles (
            did           TEXT NOT NULL,
            handle        TEXT NOT NULL,
            first_seen_at TEXT NOT NULL,
            last_seen_at  TEXT NOT NULL,
            PRIMARY KEY (did, handle)
        );
        """;

    private const string CreatePostgres = """
        CREATE TABLE IF NOT EXISTS author_handles (
            did           text NOT NULL,
            handle        text NOT NULL,
            first_seen_at timestamptz NOT NULL,
            last_seen_at  timestamptz NOT NULL,
            PRIMARY KEY (did, handle)
        );
        """;

    private const string SeedFromPosts = """
        INSERT INTO author_handles (did, handle, first_seen_at, last_seen_at)
        SELECT author_did, author_handle, min(last_hydrated_at), max(last_hydrated_at) FROM posts
        WHERE author_did IS NOT NULL AND author_handle IS NOT NULL AND last_hydrated_at IS NOT NULL
        GROUP BY author_did, author_handle
        ON CONFLICT (did, handle) DO NOTHING
        """;

    public int Version => 12;

    public string Name => "author_handles: the handles each author DID was seen with, first and last seen";

    public async Task ApplySqliteAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(CreateSqlite, transaction: transaction);
        await connection.ExecuteAsync(SeedFromPosts, transaction: transaction);
    }

    public async Task ApplyPostgresAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(CreatePostgres, transaction: transaction);
        await connection.ExecuteAsync(SeedFromPosts, transaction: transaction);
    }
}
