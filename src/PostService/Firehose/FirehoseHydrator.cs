using System.Text.Json;
using Dapper;
using PostService.Atproto;
using PostService.Posts;
using PostService.Storage;
using PostService.Upstream.AppView;

namespace PostService.Firehose;

/// <summary>
/// Zero-call hydration: a served post the firehose already brought (in <c>firehose_posts</c>, its author's handle known)
/// becomes <c>ok</c> from the cache, with <c>metadata_source = 'firehose'</c> and the counts the firehose saw, without
/// asking the AppView. An author with no known handle has it looked up in its DID document first. The rest are left for getPosts.
/// </summary>
public sealed class FirehoseHydrator(IDbConnectionFactory connections, PostsRepository posts, FirehoseHandleResolver handles, TimeProvider time)
{
    // Clears any hydration claim, as the AppView path does when it records a post. An ok post due for a refresh is left to
    // getPosts: a refresh is there to see the AppView's counts grow.
    private const string HydrateFromCacheTemplate = """
        UPDATE posts SET cid = fp.cid, author_did = fp.did, author_handle = h.handle, indexed_at = fp.seen_at, created_at = fp.created_at,
            text = fp.text, langs = fp.langs, reply_parent_uri = fp.reply_parent_uri, reply_root_uri = fp.reply_root_uri, embed_type = fp.embed_type,
            like_count = coalesce(c.like_count, 0), repost_count = coalesce(c.repost_count, 0), reply_count = coalesce(c.reply_count, 0),
            quote_count = coalesce(c.quote_count, 0), last_hydrated_at = to_ts(@Now), hydration_status = 'ok', hydration_error = NULL,
            attempts = 0, next_attempt_at = NULL, metadata_source = 'firehose', claimed_by = NULL, claimed_until = NULL
        FROM firehose_posts fp
            JOIN firehose_handles h ON h.did = fp.did AND h.handle IS NOT NULL
            LEFT JOIN firehose_counts c ON c.uri = fp.uri
        WHERE fp.uri = posts.post_uri AND posts.hydration_status <> 'ok' AND {0}
        RETURNING posts.post_uri
        """;

    // Posts already ok (due for a refresh) are not the cache's: their authors' handles need not be looked up either.
    private const string SelectCachedTemplate = """
        SELECT fp.uri, fp.did, h.handle, CAST(fp.hashtags AS TEXT)
        FROM firehose_posts fp
            JOIN posts p ON p.post_uri = fp.uri AND p.hydration_status <> 'ok'
            LEFT JOIN firehose_handles h ON h.did = fp.did
        WHERE {0}
        """;

    private readonly string _selectCached = string.Format(SelectCachedTemplate, connections.Dialect.IsAnyOf("fp.uri", "@Uris"));
    private readonly string _hydrateFromCache = string.Format(HydrateFromCacheTemplate, connections.Dialect.IsAnyOf("posts.post_uri", "@Uris"));

    /// <summary>Settles those of <paramref name="uris"/> the cache holds; returns the posts it settled, as they now stand.</summary>
    public async Task<IReadOnlyList<HydratedPost>> TryHydrateAsync(IReadOnlyList<string> uris, CancellationToken cancellationToken)
    {
        if (uris.Count == 0)
        {
            return [];
        }
        // A read first: most misses then cost no write transaction (SQLite has one writer at a time).
        var cached = await connections.QueryListAsync<(string Uri, string Did, string? Handle, string? Hashtags)>(
            _selectCached, new { Uris = connections.Dialect.List(uris) }, cancellationToken);
        if (cached.Count == 0)
        {
            return [];
        }
        await handles.LearnAsync(cached.Where(post => post.Handle is null).Select(post => post.Did).ToHashSet(StringComparer.Ordinal), cancellationToken);
        var parameters = new { Uris = connections.Dialect.List(cached.Select(post => post.Uri).ToList()), Now = DbTime.ToText(time.GetUtcNow()) };
        var settled = await connections.WriteAsync(async (connection, transaction) =>
            (IReadOnlyList<string>)(await connection.QueryAsync<string>(
                new CommandDefinition(_hydrateFromCache, parameters, transaction, cancellationToken: cancellationToken))).AsList(), cancellationToken);
        if (settled.Count == 0)
        {
            return [];
        }
        // What the settled posts now hold, for the work that follows a fetch (snapshots, hashtags, rule tags, handles).
        var hashtags = cached.ToDictionary(post => post.Uri, post => post.Hashtags, StringComparer.Ordinal);
        return (await posts.GetManyAsync(settled, cancellationToken))
            .Select(post => new HydratedPost(post.PostUri, post.Cid!, post.AuthorDid!, post.AuthorHandle!, post.IndexedAt!, post.CreatedAt, post.Text,
                post.Langs, post.ReplyParentUri, post.ReplyRootUri, post.EmbedType, post.LikeCount, post.RepostCount, post.ReplyCount, post.QuoteCount,
                Normalized(hashtags.GetValueOrDefault(post.PostUri)), Source: HydratedPost.FromFirehose))
            .ToList();
    }

    // Normalised again: rows cached by an earlier version kept the facets' tags as written.
    private static List<string>? Normalized(string? hashtags) => hashtags is null ? null
        : JsonSerializer.Deserialize<List<string>>(hashtags)!.Select(Hashtag.Normalize).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
}
