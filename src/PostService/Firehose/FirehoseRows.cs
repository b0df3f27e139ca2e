using System.Data.Common;
using Dapper;
using PostService.Storage;

namespace PostService.Firehose;

/// <summary>A post to cache, as both stores' inserts take it.</summary>
public sealed record CachedPostRow(
    string Uri, string Did, string Cid, string? CreatedAt, string? Text, string? Langs, string? ReplyParentUri, string? ReplyRootUri,
    string? EmbedType, string? QuotedUri, string? Hashtags, string SeenAt)
{
    public CachedPostRow(PostCreated post, string seenAt)
        : this(post.Uri, post.Did, post.Cid, post.CreatedAt, post.Text, post.Langs, post.ReplyParentUri, post.ReplyRootUri,
            post.EmbedType, post.QuotedUri, post.Hashtags, seenAt)
    {
    }
}

/// <summary>What a batch adds to one post's counts.</summary>
public sealed class CountRow(string uri)
{
    public string Uri { get; } = uri;
    public long Likes { get; private set; }
    public long Reposts { get; private set; }
    public long Replies { get; private set; }
    public long Quotes { get; private set; }

    public CountRow Add(EngagementKind kind)
    {
        switch (kind)
        {
            case EngagementKind.Like: Likes++; break;
            case EngagementKind.Repost: Reposts++; break;
            case EngagementKind.Reply: Replies++; break;
            case EngagementKind.Quote: Quotes++; break;
        }
        return this;
    }
}

/// <summary>
/// The two writes of a batch that carry most of its rows, written the way each store takes many rows fastest: SQLite
/// one prepared statement run per row (in process, a row costs microseconds); PostgreSQL one statement over arrays
/// (a round trip costs more than many rows). Chosen once at start.
/// </summary>
public interface IFirehoseRowWriter
{
    Task InsertPostsAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<CachedPostRow> posts, CancellationToken cancellationToken);

    /// <summary>Adds to the counts of the posts that are cached or served; the others are not counted.</summary>
    Task AddCountsAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<CountRow> counts, CancellationToken cancellationToken);
}

public sealed class SqliteFirehoseRowWriter : IFirehoseRowWriter
{
    private const string InsertPost = """
        INSERT INTO firehose_posts (uri, did, cid, created_at, text, langs, reply_parent_uri, reply_root_uri, embed_type, quoted_uri, hashtags, seen_at)
        VALUES (@Uri, @Did, @Cid, @CreatedAt, @Text, @Langs, @ReplyParentUri, @ReplyRootUri, @EmbedType, @QuotedUri, @Hashtags, @SeenAt)
        ON CONFLICT (uri) DO NOTHING
        """;

    // "WHERE" also tells SQLite's parser the upsert from a join.
    private const string AddCounts = """
        INSERT INTO firehose_counts (uri, like_count, repost_count, reply_count, quote_count)
        SELECT @Uri, @Likes, @Reposts, @Replies, @Quotes
        WHERE EXISTS (SELECT 1 FROM firehose_posts WHERE uri = @Uri) OR EXISTS (SELECT 1 FROM posts WHERE post_uri = @Uri)
        """ + FirehoseStore.AddToCounts;

    public Task InsertPostsAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<CachedPostRow> posts, CancellationToken cancellationToken) =>
        FirehoseStore.ExecuteEachAsync(connection, transaction, InsertPost, posts, cancellationToken);

    public Task AddCountsAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<CountRow> counts, CancellationToken cancellationToken) =>
        FirehoseStore.ExecuteEachAsync(connection, transaction, AddCounts, counts, cancellationToken);
}

public sealed class PostgresFirehoseRowWriter : IFirehoseRowWriter
{
    private const string InsertPosts = """
        INSERT INTO firehose_posts (uri, did, cid, created_at, text, langs, reply_parent_uri, reply_root_uri, embed_type, quoted_uri, hashtags, seen_at)
        SELECT r.uri, r.did, r.cid, r.created_at::timestamptz, r.text, r.langs::jsonb, r.reply_parent_uri, r.reply_root_uri, r.embed_type,
            r.quoted_uri, r.hashtags::jsonb, r.seen_at::timestamptz
        FROM unnest(@Uris, @Dids, @Cids, @CreatedAts, @Texts, @Langs, @ReplyParentUris, @ReplyRootUris, @EmbedTypes, @QuotedUris, @Hashtags, @SeenAts)
            AS r(uri, did, cid, created_at, text, langs, reply_parent_uri, reply_root_uri, embed_type, quoted_uri, hashtags, seen_at)
        ON CONFLICT (uri) DO NOTHING
        """;

    private const string AddCounts = """
        INSERT INTO firehose_counts (uri, like_count, repost_count, reply_count, quote_count)
        SELECT d.uri, d.likes, d.reposts, d.replies, d.quotes
        FROM unnest(@Uris, @Likes, @Reposts, @Replies, @Quotes) AS d(uri, likes, reposts, replies, quotes)
        WHERE EXISTS (SELECT 1 FROM firehose_posts WHERE uri = d.uri) OR EXISTS (SELECT 1 FROM posts WHERE post_uri = d.uri)
        """ + FirehoseStore.AddToCounts;

    public async Task InsertPostsAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<CachedPostRow> posts, CancellationToken cancellationToken)
    {
        if (posts.Count == 0)
        {
            return;
        }
        string?[] Column(Func<CachedPostRow, string?> value) => [.. posts.Select(value)];
        await connection.ExecuteAsync(new CommandDefinition(InsertPosts, new
        {
            Uris = Column(post => post.Uri), Dids = Column(post => post.Did), Cids = Column(post => post.Cid), CreatedAts = Column(post => post.CreatedAt),
            Texts = Column(post => post.Text), Langs = Column(post => post.Langs), ReplyParentUris = Column(post => post.ReplyParentUri),
            ReplyRootUris = Column(post => post.ReplyRootUri), EmbedTypes = Column(post => post.EmbedType), QuotedUris = Column(post => post.QuotedUri),
            Hashtags = Column(post => post.Hashtags), SeenAts = Column(post => post.SeenAt),
        }, transaction, cancellationToken: cancellationToken));
    }

    public async Task AddCountsAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<CountRow> counts, CancellationToken cancellationToken)
    {
        if (counts.Count == 0)
        {
            return;
        }
        long[] Column(Func<CountRow, long> value) => [.. counts.Select(value)];
        await connection.ExecuteAsync(new CommandDefinition(AddCounts, new
        {
            Uris = counts.Select(count => count.Uri).ToArray(), Likes = Column(count => count.Likes), Reposts = Column(count => count.Reposts),
            Replies = Column(count => count.Replies), Quotes = Column(count => count.Quotes),
        }, transaction, cancellationToken: cancellationToken));
    }
}
