using System.Data.Common;
using Dapper;
using PostService.Storage;

namespace PostService.Posts;

public static class HydrationStatus
{
    public const string Pending = "pending";
    public const string Ok = "ok";
    public const string NotFound = "not_found";
    public const string Error = "error";
    public const string Invalid = "invalid";

    public static readonly IReadOnlyList<string> All = [Pending, Ok, NotFound, Error, Invalid];
}

/// <summary>A URI a retrieval served; <paramref name="InvalidReason"/> is set when it is not a valid post at-URI.</summary>
public sealed record NewPost(string PostUri, string? Cid, string? InvalidReason);

/// <param name="HasMedia">Only posts embedding this kind of media (<c>image</c>, <c>video</c>, <c>external</c>, <c>quote</c>).</param>
public sealed record PostFilter(string? AuthorDid, string? Status, int Limit, string? AfterUri, string? HasMedia = null);

/// <summary>All SQL on <c>posts</c> that ingestion and the read endpoints use.</summary>
public sealed class PostsRepository(IDbConnectionFactory connections)
{
    private const string InsertPending = """
        INSERT INTO posts (post_uri, cid, hydration_status) VALUES (@PostUri, @Cid, 'pending')
        ON CONFLICT (post_uri) DO NOTHING
        """;

    // An existing row keeps its status and metadata; it only gains a CID it lacked.
    private const string FillMissingCid = "UPDATE posts SET cid = @Cid WHERE post_uri = @PostUri AND cid IS NULL";

    private const string InsertInvalid = """
        INSERT INTO posts (post_uri, hydration_status, hydration_error) VALUES (@PostUri, 'invalid', @Error)
        ON CONFLICT (post_uri) DO NOTHING
        """;

    // PostgreSQL: one statement for the batch. Rows come in URI order, so concurrent batches lock shared rows in the
    // same order and cannot deadlock; "xmax = 0" tells an inserted row from an existing one.
    private const string InsertBulk = """
        INSERT INTO posts AS p (post_uri, cid, hydration_status, hydration_error)
        SELECT n.post_uri, n.cid, n.hydration_status, n.hydration_error
        FROM unnest(@PostUris, @Cids, @Statuses, @Errors) WITH ORDINALITY AS n(post_uri, cid, hydration_status, hydration_error, i)
        ORDER BY n.i
        ON CONFLICT (post_uri) DO UPDATE SET cid = excluded.cid
            WHERE p.cid IS NULL AND excluded.cid IS NOT NULL AND excluded.hydration_status = 'pending'
        RETURNING p.post_uri, p.hydration_status, (xmax = 0) AS inserted
        """;

    private const string SelectExisting = "SELECT post_uri FROM posts WHERE post_uri IN @PostUris";

    // URIs per existence check: well under SQLite's limit on bound parameters.
    private const int ExistenceCheckChunk = 500;

    private const string SelectColumns = """
        SELECT post_uri, cid, author_did, author_handle, ts_text(indexed_at) AS indexed_at, ts_text(created_at) AS created_at,
               text, langs AS langs_json, reply_parent_uri, reply_root_uri, embed_type, like_count, repost_count, reply_count,
               quote_count, hydration_status, hydration_error, ts_text(last_hydrated_at) AS last_hydrated_at, attempts,
               ts_text(next_attempt_at) AS next_attempt_at, metadata_source
        FROM posts
        """;

    private const string SelectByUri = SelectColumns + " WHERE post_uri = @PostUri";

    private const string SelectPage = SelectColumns + """
         WHERE (@AuthorDid IS NULL OR author_did = @AuthorDid)
           AND (@Status IS NULL OR hydration_status = @Status)
           AND (@AfterUri IS NULL OR post_uri > @AfterUri)
           AND (@HasMedia IS NULL OR EXISTS (SELECT 1 FROM post_media m WHERE m.post_uri = posts.post_uri AND m.kind = @HasMedia))
         ORDER BY post_uri
         LIMIT @Limit
        """;

    /// <summary>
    /// Adds a row for each URI not seen before: <c>pending</c>, or <c>invalid</c> with its reason. A known post keeps its
    /// row and only gains a CID it lacked. Returns the URIs that became new <c>pending</c> posts.
    /// </summary>
    public static async Task<IReadOnlyList<string>> AddUnseenAsync(
        DbConnection connection, DbTransaction transaction, SqlDialect dialect, IEnumerable<NewPost> posts)
    {
        var ordered = posts.DistinctBy(post => post.PostUri).OrderBy(post => post.PostUri, StringComparer.Ordinal).ToList();
        if (dialect.IsPostgres)
        {
            var rows = await connection.QueryAsync<(string PostUri, string HydrationStatus, bool Inserted)>(InsertBulk, new
            {
                PostUris = ordered.Select(post => post.PostUri).ToArray(),
                Cids = ordered.Select(post => post.Cid).ToArray(),
                Statuses = ordered.Select(post => post.InvalidReason is null ? HydrationStatus.Pending : HydrationStatus.Invalid).ToArray(),
                Errors = ordered.Select(post => post.InvalidReason).ToArray(),
            }, transaction);
            return rows.Where(row => row.Inserted && row.HydrationStatus == HydrationStatus.Pending).Select(row => row.PostUri).ToList();
        }

        // SQLite: one existence check per 500 URIs, then one prepared statement per kind of row rather than a statement
        // per URI: preparing the insert, which carries the post_counts triggers, cost more than running it (profiled).
        var existing = new HashSet<string>(StringComparer.Ordinal);
        foreach (var chunk in ordered.Chunk(ExistenceCheckChunk))
        {
            existing.UnionWith(await connection.QueryAsync<string>(
                SelectExisting, new { PostUris = chunk.Select(post => post.PostUri).ToList() }, transaction));
        }
        var unseen = ordered.Where(post => !existing.Contains(post.PostUri)).ToList();
        var pending = unseen.Where(post => post.InvalidReason is null).ToList();
        await connection.ExecuteAsync(InsertInvalid,
            unseen.Where(post => post.InvalidReason is not null).Select(post => new { post.PostUri, Error = post.InvalidReason }), transaction);
        await connection.ExecuteAsync(InsertPending, pending, transaction);
        await connection.ExecuteAsync(FillMissingCid,
            ordered.Where(post => post is { Cid: not null, InvalidReason: null } && existing.Contains(post.PostUri)), transaction);
        return pending.Select(post => post.PostUri).ToList();
    }

    private const string SelectMedia = """
        SELECT kind, url, alt, width, height, blob_cid, title, description, quoted_uri FROM post_media WHERE post_uri = @PostUri ORDER BY position
        """;

    /// <summary>The post with its media.</summary>
    public async Task<PostRecord?> GetAsync(string postUri, CancellationToken cancellationToken)
    {
        var post = await connections.QuerySingleOrDefaultAsync<PostRecord>(SelectByUri, new { PostUri = postUri }, cancellationToken);
        if (post is not null)
        {
            post.Media = await connections.QueryListAsync<StoredMedia>(SelectMedia, new { PostUri = postUri }, cancellationToken);
        }
        return post;
    }

    public Task<IReadOnlyList<PostRecord>> ListAsync(PostFilter filter, CancellationToken cancellationToken) =>
        connections.QueryListAsync<PostRecord>(SelectPage, filter, cancellationToken);
}
