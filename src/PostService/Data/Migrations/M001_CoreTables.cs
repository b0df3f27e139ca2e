using System.Data.Common;
using Dapper;

namespace PostService.Data.Migrations;

/// <summary>
/// The three tables of the compliance tracker's layout, in their current shape. On a file the Python tool wrote,
/// the tables it has are left as they are here; later steps bring them to this shape.
/// </summary>
public sealed class M001_CoreTables : IMigration
{
    /// <summary>The current <c>feed_request_posts</c>; the legacy rebuild (M005) creates the table from it too.</summary>
    public const string FeedRequestPostsDefinition = """
        (
            id         INTEGER PRIMARY KEY AUTOINCREMENT,
            request_id INTEGER NOT NULL REFERENCES feed_requests(request_id) ON DELETE CASCADE,
            post_index INTEGER,
            post_uri   TEXT,
            post_json  TEXT,
            UNIQUE(request_id, post_uri)
        )
        """;

    public const string CreateFeedRequestPostsIndexes = "CREATE INDEX IF NOT EXISTS idx_feed_request_posts_uri ON feed_request_posts(post_uri);";

    private const string CreateFeedRequests = """
        CREATE TABLE IF NOT EXISTS feed_requests (
            request_id    INTEGER PRIMARY KEY,
            requester_did TEXT NOT NULL,
            algo          TEXT,
            timestamp     TEXT NOT NULL,
            posts_json    TEXT,
            received_at   TEXT NOT NULL
        );
        """;

    private const string CreateFeedRequestPosts = "CREATE TABLE IF NOT EXISTS feed_request_posts " + FeedRequestPostsDefinition;

    private const string CreatePosts = """
        CREATE TABLE IF NOT EXISTS posts (
            post_uri         TEXT PRIMARY KEY,
            cid              TEXT,
            author_did       TEXT,
            author_handle    TEXT,
            indexed_at       TEXT,
            created_at       TEXT,
            last_hydrated_at TEXT,
            hydration_status TEXT NOT NULL DEFAULT 'pending',
            hydration_error  TEXT
        );
        """;

    private const string CreateIndexes = """
        CREATE INDEX IF NOT EXISTS idx_posts_author_did ON posts(author_did);
        CREATE INDEX IF NOT EXISTS idx_posts_hydration ON posts(hydration_status, last_hydrated_at);
        CREATE INDEX IF NOT EXISTS idx_feed_requests_requester ON feed_requests(requester_did, request_id);
        """;

    public int Version => 1;

    public string Name => "core tables: feed_requests, feed_request_posts, posts";

    public async Task ApplyAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        foreach (var statement in (string[])[CreateFeedRequests, CreateFeedRequestPosts, CreatePosts, CreateIndexes, CreateFeedRequestPostsIndexes])
        {
            await connection.ExecuteAsync(statement, transaction: transaction);
        }
    }
}
