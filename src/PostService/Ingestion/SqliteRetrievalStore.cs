using System.Data.Common;
using PostService.Posts;
using PostService.Storage;

namespace PostService.Ingestion;

/// <summary>
/// Ingestion on SQLite: single-row statements (<see cref="SqliteRowStatement"/>), each prepared once per request and run
/// once per row, in transactions that concurrent writes share (group commit, in the connection factory). Values go in as they are: on SQLite times
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
        INSERT INTO feed_request_posts (request_id, post_index, post_uri, post_json, post_id)
        VALUES (@RequestId, @PostIndex, @PostUri, @PostJson, @PostId)
        """;

    // The writer numbers the posts it adds itself (see M014_ServedRowsByPostId), from the highest number stored.
    private const string SelectLastPostId = "SELECT coalesce(max(post_id), 0) FROM posts";

    // Known posts are looked up first: most served URIs are known, and an insert that conflicts looks the key up too.
    private const string SelectKnownPost = "SELECT post_id, cid IS NULL FROM posts WHERE post_uri = @PostUri";

    private const string InsertPost = """
        INSERT INTO posts (post_uri, cid, hydration_status, hydration_error, post_id) VALUES (@PostUri, @Cid, @Status, @Error, @PostId)
        """;

    // A post stored by other means than this writer (a test, a hand-written insert) is numbered when first served.
    private const string NumberPost = "UPDATE posts SET post_id = @PostId WHERE post_uri = @PostUri";

    // A known post keeps its status and metadata; it only gains a CID it lacked.
    private const string FillMissingCid = "UPDATE posts SET cid = @Cid WHERE post_uri = @PostUri";

    // The posts a batch adds, counted once per batch rather than by a trigger per row (see M008_PostCountsByWriters).
    private const string CountNewPosts = """
        INSERT INTO post_counts (hydration_status, day, posts, with_author) VALUES (@Status, '', @Posts, 0)
        ON CONFLICT (hydration_status, day) DO UPDATE SET posts = posts + excluded.posts
        """;

    // Microsoft.Data.Sqlite runs "async" statements synchronously; running them so spares a task per row.
    public Task<RetrievalWrite> WriteAsync(RetrievalRows rows, CancellationToken cancellationToken) =>
        connections.WriteAsync(async (connection, transaction) =>
        {
            var write = Store(connection, rows);
            await IngestEventLog.AppendAsync(connection, transaction, rows.Event);
            return write;
        }, cancellationToken);

    private static RetrievalWrite Store(DbConnection connection, RetrievalRows rows)
    {
        var replaced = 0;
        using (var deletePosts = new SqliteRowStatement(connection, DeletePostsOfRequest))
        using (var deleteRequest = new SqliteRowStatement(connection, DeleteRequest))
        using (var insertRequest = new SqliteRowStatement(connection, InsertRequest))
        {
            foreach (var request in rows.Requests)
            {
                deletePosts.Run(request.RequestId);
                replaced += deleteRequest.Run(request.RequestId);
                insertRequest.Run(
                    request.RequestId, request.RequesterDid, request.Algo, request.Timestamp, request.PostsJson, request.ReceivedAt);
            }
        }
        var posts = StorePosts(connection, rows.Posts);
        using (var insertServed = new SqliteRowStatement(connection, InsertRequestPost))
        {
            foreach (var served in rows.ServedPosts)
            {
                long? postId = served.PostUri is { } uri ? posts.PostIds[uri] : null;
                insertServed.Run(served.RequestId, served.PostIndex, served.PostUri, served.PostJson, postId);
            }
        }
        return new RetrievalWrite(replaced, posts.NewPending);
    }

    /// <summary>
    /// Adds a <c>pending</c> row (or <c>invalid</c>, with its reason) for each URI not seen before, in URI order,
    /// numbered after the highest stored number, and counts them; a known post only gains a CID it lacked (and a number,
    /// if it was stored by other means than this writer). Returns every URI's post number and the URIs that became new
    /// <c>pending</c> posts.
    /// </summary>
    private static (Dictionary<string, long> PostIds, List<string> NewPending) StorePosts(DbConnection connection, IReadOnlyList<NewPost> posts)
    {
        var postIds = new Dictionary<string, long>(posts.Count, StringComparer.Ordinal);
        var newPending = new List<string>();
        var newInvalid = 0;
        using (var lastPostId = new SqliteRowStatement(connection, SelectLastPostId))
        using (var insertPost = new SqliteRowStatement(connection, InsertPost))
        using (var selectKnown = new SqliteRowStatement(connection, SelectKnownPost))
        using (var numberPost = new SqliteRowStatement(connection, NumberPost))
        using (var fillCid = new SqliteRowStatement(connection, FillMissingCid))
        {
            lastPostId.TryQuery(out var last);
            var nextPostId = last.GetInt64(0) + 1;
            foreach (var post in posts.OrderBy(post => post.PostUri, StringComparer.Ordinal))
            {
                var valid = post.InvalidReason is null;
                if (selectKnown.TryQuery(out var known, post.PostUri))
                {
                    var lacksCid = known.GetInt64(1) == 1;
                    if (known.IsNull(0))
                    {
                        numberPost.Run(nextPostId, post.PostUri);
                        postIds[post.PostUri] = nextPostId++;
                    }
                    else
                    {
                        postIds[post.PostUri] = known.GetInt64(0);
                    }
                    if (valid && post.Cid is not null && lacksCid)
                    {
                        fillCid.Run(post.Cid, post.PostUri);
                    }
                    continue;
                }
                insertPost.Run(post.PostUri, valid ? post.Cid : null, valid ? HydrationStatus.Pending : HydrationStatus.Invalid, post.InvalidReason, nextPostId);
                postIds[post.PostUri] = nextPostId++;
                if (valid)
                {
                    newPending.Add(post.PostUri);
                }
                else
                {
                    newInvalid++;
                }
            }
        }
        using (var count = new SqliteRowStatement(connection, CountNewPosts))
        {
            foreach (var (status, added) in new[] { (HydrationStatus.Pending, newPending.Count), (HydrationStatus.Invalid, newInvalid) })
            {
                if (added > 0)
                {
                    count.Run(status, added);
                }
            }
        }
        return (postIds, newPending);
    }
}
