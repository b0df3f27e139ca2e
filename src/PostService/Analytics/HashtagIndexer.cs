using Dapper;
using PostService.Hydration;
using PostService.Storage;
using PostService.Upstream.AppView;

namespace PostService.Analytics;

/// <summary>
/// Fills <c>hashtags</c> and <c>post_hashtags</c> from each hydrated post's <c>#tag</c> facets and <c>tags</c> (normalised by
/// <see cref="Atproto.Hashtag"/>); a post fetched again gets the hashtags of its latest fetch.
/// </summary>
public sealed class HashtagIndexer(IDbConnectionFactory connections) : IHydratedPostsHandler
{
    /// <summary>The lexicon's limit on a tag is 640 bytes; longer ones are not real hashtags.</summary>
    public const int MaxNameLength = 640;

    private const string UpsertHashtag = """
        INSERT INTO hashtags (name, first_seen_at, last_seen_at) VALUES (@Name, to_ts(@Now), to_ts(@Now))
        ON CONFLICT (name) DO UPDATE SET last_seen_at = excluded.last_seen_at
        """;

    private const string DeletePostHashtags = "DELETE FROM post_hashtags WHERE post_uri = @PostUri";

    private const string InsertPostHashtag = """
        INSERT INTO post_hashtags (post_uri, hashtag_id) SELECT @PostUri, id FROM hashtags WHERE name = @Name
        ON CONFLICT DO NOTHING
        """;

    public Task HandleAsync(IReadOnlyList<HydratedPost> posts, DateTimeOffset fetchedAt, CancellationToken cancellationToken)
    {
        var now = DbTime.ToText(fetchedAt);
        var tagged = posts.Select(post => (post.Uri, Names: (post.Hashtags ?? []).Where(name => name.Length <= MaxNameLength).ToList()))
            .OrderBy(post => post.Uri, StringComparer.Ordinal).ToList();
        // Names in one order, so that concurrent writers on PostgreSQL lock hashtag rows alike.
        var names = tagged.SelectMany(post => post.Names).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return connections.WriteAsync(async (connection, transaction) =>
        {
            await connection.ExecuteAsync(UpsertHashtag, names.Select(name => new { Name = name, Now = now }), transaction);
            await connection.ExecuteAsync(DeletePostHashtags, tagged.Select(post => new { PostUri = post.Uri }), transaction);
            await connection.ExecuteAsync(InsertPostHashtag,
                tagged.SelectMany(post => post.Names.Select(name => new { PostUri = post.Uri, Name = name })), transaction);
            return 0;
        }, cancellationToken);
    }
}
