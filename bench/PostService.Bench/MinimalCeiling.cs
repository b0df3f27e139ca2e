using System.Diagnostics;
using Microsoft.Data.Sqlite;
using PostService.Ingestion;

namespace PostService.Bench;

/// <summary>
/// The least any SQLite ingestion must do, as issue 13 defines it: the three core tables with the two indexes on
/// <c>posts</c> (<c>author_did</c>; <c>hydration_status, last_hydrated_at</c>), prepared statements, one transaction
/// per request body, WAL, <c>synchronous=FULL</c>. No triggers, no counts, no other index, no hydration.
/// </summary>
public static class MinimalCeiling
{
    private const string Schema = """
        PRAGMA journal_mode=WAL;
        PRAGMA synchronous=FULL;
        CREATE TABLE feed_requests (
            request_id INTEGER PRIMARY KEY, requester_did TEXT NOT NULL, algo TEXT, timestamp TEXT NOT NULL,
            posts_json TEXT, received_at TEXT NOT NULL);
        CREATE TABLE feed_request_posts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            request_id INTEGER NOT NULL REFERENCES feed_requests(request_id) ON DELETE CASCADE,
            post_index INTEGER, post_uri TEXT, post_json TEXT, UNIQUE(request_id, post_uri));
        CREATE TABLE posts (
            post_uri TEXT PRIMARY KEY, cid TEXT, author_did TEXT, author_handle TEXT, indexed_at TEXT, created_at TEXT,
            last_hydrated_at TEXT, hydration_status TEXT NOT NULL DEFAULT 'pending', hydration_error TEXT);
        CREATE INDEX idx_posts_author_did ON posts(author_did);
        CREATE INDEX idx_posts_hydration ON posts(hydration_status, last_hydrated_at);
        """;

    /// <summary>Stores <paramref name="bodies"/> (each a list of parsed retrievals) into a new file; returns post rows and seconds.</summary>
    public static (long PostRows, double Seconds) Measure(IReadOnlyList<IReadOnlyList<Retrieval>> bodies)
    {
        var path = BenchHost.NewDatabasePath();
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        using (var schema = connection.CreateCommand())
        {
            schema.CommandText = Schema;
            schema.ExecuteNonQuery();
        }
        var receivedAt = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
        long postRows = 0;
        var clock = Stopwatch.StartNew();
        foreach (var body in bodies)
        {
            using var transaction = connection.BeginTransaction();
            using var deletePosts = Command(connection, transaction, "DELETE FROM feed_request_posts WHERE request_id = $id", "$id");
            using var deleteRequest = Command(connection, transaction, "DELETE FROM feed_requests WHERE request_id = $id", "$id");
            using var insertRequest = Command(connection, transaction,
                "INSERT INTO feed_requests VALUES ($id, $did, $algo, $ts, $json, $received)", "$id", "$did", "$algo", "$ts", "$json", "$received");
            using var insertPost = Command(connection, transaction,
                "INSERT INTO posts (post_uri, cid) VALUES ($uri, $cid) ON CONFLICT (post_uri) DO NOTHING", "$uri", "$cid");
            using var insertServed = Command(connection, transaction,
                "INSERT INTO feed_request_posts (request_id, post_index, post_uri, post_json) VALUES ($id, $index, $uri, $json)", "$id", "$index", "$uri", "$json");
            foreach (var retrieval in body)
            {
                Run(deletePosts, retrieval.Id);
                Run(deleteRequest, retrieval.Id);
                Run(insertRequest, retrieval.Id, retrieval.RequesterDid, retrieval.Algo, retrieval.Timestamp, retrieval.PostsJson, receivedAt);
                foreach (var post in retrieval.Posts)
                {
                    Run(insertPost, post.Uri, post.Cid);
                    Run(insertServed, retrieval.Id, post.Position, post.Uri, post.RawJson);
                    postRows++;
                }
            }
            transaction.Commit();
        }
        return (postRows, clock.Elapsed.TotalSeconds);
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction transaction, string sql, params string[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }
        command.Prepare();
        return command;
    }

    private static void Run(SqliteCommand command, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i] ?? DBNull.Value;
        }
        command.ExecuteNonQuery();
    }
}
