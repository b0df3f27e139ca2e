using System.Data.Common;
using PostService.Posts;
using PostService.Storage;

namespace PostService.Ingestion;

/// <summary>
/// Ingestion on SQLite: prepared single-row statements, each prepared once per request and run once per row, in
/// transactions that concurrent writes share (group commit, in the connection factory). Values go in as they are: on SQLite times
/// and JSON are text, so the statements skip the dialect functions (<c>to_ts</c>, <c>to_json_doc</c>), each a call
/// into .NET per row.
/// </summary>
public sealed class SqliteRetrievalStore(IDbConnectionFactory connections) : IRetrievalStore
{
    private const string DeletePostsOfRequest = "DELETE FROM feed_request_posts WHERE request_id = @RequestId";

    private const string DeleteRequest = "DELETE FROM feed_requests WHERE request_id = @RequestId";

    private const string InsertRequest = """
        INSERT INTO feed_requests (request_id, requester_did, algo, timestamp, posts_json, received_at)
        VALUES (@RequestId, @RequesterDid, @Algo, @Timestamp, @PostsJson, @ReceivedAt)
        """;

    private const string InsertRequestPost = """
        INSERT INTO feed_request_posts (request_id, post_index, post_uri, post_json)
        VALUES (@RequestId, @PostIndex, @PostUri, @PostJson)
        """;

    // One statement per URI that both checks and inserts: a row it adds is a new post, a conflict a known one.
    private const string InsertPost = """
        INSERT INTO posts (post_uri, cid, hydration_status, hydration_error) VALUES (@PostUri, @Cid, @Status, @Error)
        ON CONFLICT (post_uri) DO NOTHING
        """;

    // A known post keeps its status and metadata; it only gains a CID it lacked.
    private const string FillMissingCid = "UPDATE posts SET cid = @Cid WHERE post_uri = @PostUri AND cid IS NULL";

    // The posts a batch adds, counted once per batch rather than by a trigger per row (see M008_PostCountsByWriters).
    private const string CountNewPosts = """
        INSERT INTO post_counts (hydration_status, day, posts, with_author) VALUES (@Status, '', @Posts, 0)
        ON CONFLICT (hydration_status, day) DO UPDATE SET posts = posts + excluded.posts
        """;

    // Microsoft.Data.Sqlite runs "async" statements synchronously; running them so spares a task per row.
    public Task<RetrievalWrite> WriteAsync(RetrievalRows rows, CancellationToken cancellationToken) =>
        connections.WriteAsync(async (connection, transaction) =>
        {
            var write = Store(connection, transaction, rows);
            await IngestEventLog.AppendAsync(connection, transaction, rows.Event);
            return write;
        }, cancellationToken);

    private static RetrievalWrite Store(DbConnection connection, DbTransaction transaction, RetrievalRows rows)
    {
        var replaced = 0;
        using (var deletePosts = Prepare(connection, transaction, DeletePostsOfRequest, "@RequestId"))
        using (var deleteRequest = Prepare(connection, transaction, DeleteRequest, "@RequestId"))
        using (var insertRequest = Prepare(connection, transaction, InsertRequest,
            "@RequestId", "@RequesterDid", "@Algo", "@Timestamp", "@PostsJson", "@ReceivedAt"))
        {
            foreach (var request in rows.Requests)
            {
                Run(deletePosts, request.RequestId);
                replaced += Run(deleteRequest, request.RequestId);
                Run(insertRequest,
                    request.RequestId, request.RequesterDid, request.Algo, request.Timestamp, request.PostsJson, request.ReceivedAt);
            }
        }
        using (var insertServed = Prepare(connection, transaction, InsertRequestPost, "@RequestId", "@PostIndex", "@PostUri", "@PostJson"))
        {
            foreach (var served in rows.ServedPosts)
            {
                Run(insertServed, served.RequestId, served.PostIndex, served.PostUri, served.PostJson);
            }
        }
        return new RetrievalWrite(replaced, AddUnseenPosts(connection, transaction, rows.Posts));
    }

    /// <summary>
    /// Adds a <c>pending</c> row (or <c>invalid</c>, with its reason) for each URI not seen before, in URI order, and
    /// counts them; a known post only gains a CID it lacked. Returns the URIs that became new <c>pending</c> posts.
    /// </summary>
    private static List<string> AddUnseenPosts(DbConnection connection, DbTransaction transaction, IReadOnlyList<NewPost> posts)
    {
        var newPending = new List<string>();
        var newInvalid = 0;
        var knownWithCid = new List<NewPost>();
        using (var insertPost = Prepare(connection, transaction, InsertPost, "@PostUri", "@Cid", "@Status", "@Error"))
        {
            foreach (var post in posts.OrderBy(post => post.PostUri, StringComparer.Ordinal))
            {
                var valid = post.InvalidReason is null;
                var added = Run(insertPost, post.PostUri, valid ? post.Cid : null,
                    valid ? HydrationStatus.Pending : HydrationStatus.Invalid, post.InvalidReason) > 0;
                if (added && valid)
                {
                    newPending.Add(post.PostUri);
                }
                else if (added)
                {
                    newInvalid++;
                }
                else if (valid && post.Cid is not null)
                {
                    knownWithCid.Add(post);
                }
            }
        }
        using (var fillCid = Prepare(connection, transaction, FillMissingCid, "@Cid", "@PostUri"))
        {
            foreach (var post in knownWithCid)
            {
                Run(fillCid, post.Cid, post.PostUri);
            }
        }
        using (var count = Prepare(connection, transaction, CountNewPosts, "@Status", "@Posts"))
        {
            foreach (var (status, added) in new[] { (HydrationStatus.Pending, newPending.Count), (HydrationStatus.Invalid, newInvalid) })
            {
                if (added > 0)
                {
                    Run(count, status, added);
                }
            }
        }
        return newPending;
    }

    private static DbCommand Prepare(DbConnection connection, DbTransaction transaction, string sql, params string[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            command.Parameters.Add(parameter);
        }
        command.Prepare();
        return command;
    }

    /// <summary>Runs <paramref name="command"/> with <paramref name="values"/> in parameter order; returns the rows it changed.</summary>
    private static int Run(DbCommand command, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i] ?? DBNull.Value;
        }
        return command.ExecuteNonQuery();
    }
}
