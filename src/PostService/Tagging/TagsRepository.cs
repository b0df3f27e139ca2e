using System.Data.Common;
using Dapper;
using PostService.Storage;

namespace PostService.Tagging;

/// <summary>All SQL on <c>tags</c> and <c>post_tags</c>; the same on both stores.</summary>
public sealed class TagsRepository(IDbConnectionFactory connections)
{
    private const string SelectTags = """
        SELECT t.name, t.description, t.color, ts_text(t.created_at) AS created_at,
               (SELECT count(*) FROM post_tags pt WHERE pt.tag = t.name) AS posts
        FROM tags t
        """;

    private const string SelectAllTags = SelectTags + " ORDER BY t.name";

    private const string SelectTag = SelectTags + " WHERE t.name = @Name";

    private const string TagExists = "SELECT count(*) FROM tags WHERE name = @Name";

    private const string UpsertTag = """
        INSERT INTO tags (name, description, color, created_at) VALUES (@Name, @Description, @Color, to_ts(@Now))
        ON CONFLICT (name) DO UPDATE SET description = coalesce(excluded.description, tags.description),
            color = coalesce(excluded.color, tags.color)
        """;

    private const string InsertTagIfMissing = """
        INSERT INTO tags (name, description, created_at) VALUES (@Name, @Description, to_ts(@Now)) ON CONFLICT (name) DO NOTHING
        """;

    private const string InsertPostTag = """
        INSERT INTO post_tags (post_uri, tag, applied_by, confidence, notes, version, created_at)
        VALUES (@PostUri, @Tag, @AppliedBy, @Confidence, @Notes, @Version, to_ts(@Now))
        """;

    // An analyst's or a model's tag replaces whatever the post carried under that tag.
    private const string UpsertPostTag = InsertPostTag + """

        ON CONFLICT (post_uri, tag) DO UPDATE SET applied_by = excluded.applied_by, confidence = excluded.confidence,
            notes = excluded.notes, version = excluded.version, created_at = excluded.created_at
        """;

    // A rule never overrides a tag someone applied by hand or by model.
    private const string UpsertRuleTag = InsertPostTag + """

        ON CONFLICT (post_uri, tag) DO UPDATE SET version = excluded.version WHERE post_tags.applied_by = 'rule'
        """;

    private const string DeleteRuleTag = "DELETE FROM post_tags WHERE post_uri = @PostUri AND tag = @Tag AND applied_by = 'rule'";

    private const string DeletePostTag = "DELETE FROM post_tags WHERE post_uri = @PostUri AND tag = @Tag";

    private const string PostExists = "SELECT count(*) FROM posts WHERE post_uri = @PostUri";

    private const string SelectExistingPostsTemplate = "SELECT post_uri FROM posts WHERE {0}";

    private const string SelectPostTags = """
        SELECT pt.post_uri, pt.tag, pt.applied_by, pt.confidence, pt.notes, pt.version, ts_text(pt.created_at) AS created_at,
               p.author_did, p.author_handle, p.text, p.hydration_status
        FROM post_tags pt JOIN posts p ON p.post_uri = pt.post_uri
        """;

    private const string SelectPostTag = SelectPostTags + " WHERE pt.post_uri = @PostUri AND pt.tag = @Tag";

    private const string SelectTaggedPage = SelectPostTags + """
         WHERE pt.tag = @Tag AND (@AfterUri IS NULL OR pt.post_uri > @AfterUri)
         ORDER BY pt.post_uri
         LIMIT @Limit
        """;

    // URIs per existence check: well under SQLite's limit on bound parameters.
    private const int ExistenceCheckChunk = 500;

    private readonly string _selectExistingPosts = string.Format(SelectExistingPostsTemplate, connections.Dialect.IsAnyOf("post_uri", "@PostUris"));

    public Task<IReadOnlyList<Tag>> ListAsync(CancellationToken cancellationToken) =>
        connections.QueryListAsync<Tag>(SelectAllTags, null, cancellationToken);

    public Task<Tag?> GetAsync(string name, CancellationToken cancellationToken) =>
        connections.QuerySingleOrDefaultAsync<Tag>(SelectTag, new { Name = name }, cancellationToken);

    /// <summary>Creates the tag, or updates the description and colour given; true when it was created.</summary>
    public Task<(Tag Tag, bool Created)> SaveAsync(string name, string? description, string? color, DateTimeOffset now, CancellationToken cancellationToken) =>
        connections.WriteAsync(async (connection, transaction) =>
        {
            var existed = await connection.ExecuteScalarAsync<long>(TagExists, new { Name = name }, transaction) > 0;
            await connection.ExecuteAsync(UpsertTag, new { Name = name, Description = description, Color = color, Now = DbTime.ToText(now) }, transaction);
            return (await connection.QuerySingleAsync<Tag>(SelectTag, new { Name = name }, transaction), !existed);
        }, cancellationToken);

    /// <summary>Puts <paramref name="tag"/> on one post, replacing what it had under that tag.</summary>
    public Task<(TaggingOutcome Outcome, PostTag? Tagged)> TagPostAsync(
        string postUri, string tag, PostTagRequest values, DateTimeOffset now, CancellationToken cancellationToken) =>
        connections.WriteAsync(async (connection, transaction) =>
        {
            if (await connection.ExecuteScalarAsync<long>(TagExists, new { Name = tag }, transaction) == 0)
            {
                return (TaggingOutcome.UnknownTag, (PostTag?)null);
            }
            if (await connection.ExecuteScalarAsync<long>(PostExists, new { PostUri = postUri }, transaction) == 0)
            {
                return (TaggingOutcome.UnknownPost, null);
            }
            await connection.ExecuteAsync(UpsertPostTag, Row(postUri, tag, values, now), transaction);
            return (TaggingOutcome.Tagged, await connection.QuerySingleAsync<PostTag>(SelectPostTag, new { PostUri = postUri, Tag = tag }, transaction));
        }, cancellationToken);

    /// <summary>Puts <paramref name="tag"/> on every known post of <paramref name="postUris"/>; null when the tag does not exist.</summary>
    public Task<BulkTagResponse?> TagPostsAsync(
        string tag, IReadOnlyList<string> postUris, PostTagRequest values, DateTimeOffset now, CancellationToken cancellationToken) =>
        connections.WriteAsync(async (connection, transaction) =>
        {
            if (await connection.ExecuteScalarAsync<long>(TagExists, new { Name = tag }, transaction) == 0)
            {
                return null;
            }
            var distinct = postUris.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var known = new HashSet<string>(StringComparer.Ordinal);
            foreach (var chunk in distinct.Chunk(ExistenceCheckChunk))
            {
                known.UnionWith(await connection.QueryAsync<string>(
                    _selectExistingPosts, new { PostUris = connections.Dialect.List(chunk) }, transaction));
            }
            var tagged = distinct.Where(known.Contains).ToList();
            await connection.ExecuteAsync(UpsertPostTag, tagged.Select(uri => Row(uri, tag, values, now)), transaction);
            return new BulkTagResponse(tagged.Count, distinct.Where(uri => !known.Contains(uri)).ToList());
        }, cancellationToken);

    /// <summary>Takes <paramref name="tag"/> off a post; false when the post did not carry it.</summary>
    public Task<bool> UntagPostAsync(string postUri, string tag, CancellationToken cancellationToken) =>
        connections.WriteAsync(async (connection, transaction) =>
            await connection.ExecuteAsync(DeletePostTag, new { PostUri = postUri, Tag = tag }, transaction) > 0, cancellationToken);

    public Task<IReadOnlyList<PostTag>> ListTaggedAsync(string tag, int limit, string? afterUri, CancellationToken cancellationToken) =>
        connections.QueryListAsync<PostTag>(SelectTaggedPage, new { Tag = tag, Limit = limit, AfterUri = afterUri }, cancellationToken);

    /// <summary>
    /// The rules' verdicts on hydrated posts, in one transaction: a rule's tag goes on every post it matches (its tag is
    /// created when missing) and comes off the posts it no longer matches, unless someone else applied it.
    /// </summary>
    public Task ApplyRulesAsync(IReadOnlyCollection<RuleVerdict> verdicts, string ruleTagDescription, DateTimeOffset now, CancellationToken cancellationToken) =>
        connections.WriteAsync(async (connection, transaction) =>
        {
            var time = DbTime.ToText(now);
            var matched = verdicts.Where(verdict => verdict.Matches).OrderBy(verdict => verdict.PostUri, StringComparer.Ordinal).ToList();
            await connection.ExecuteAsync(InsertTagIfMissing,
                matched.Select(verdict => verdict.Rule.Tag).Distinct().Select(name => new { Name = name, Description = ruleTagDescription, Now = time }), transaction);
            await connection.ExecuteAsync(UpsertRuleTag, matched.Select(verdict =>
                Row(verdict.PostUri, verdict.Rule.Tag, new PostTagRequest(TagSource.Rule, 1.0, null, verdict.Rule.Version), now)), transaction);
            await connection.ExecuteAsync(DeleteRuleTag,
                verdicts.Where(verdict => !verdict.Matches).Select(verdict => new { verdict.PostUri, verdict.Rule.Tag }), transaction);
            return 0;
        }, cancellationToken);

    private static object Row(string postUri, string tag, PostTagRequest values, DateTimeOffset now) => new
    {
        PostUri = postUri,
        Tag = tag,
        AppliedBy = (values.AppliedBy ?? TagSource.User).ToString().ToLowerInvariant(),
        values.Confidence,
        values.Notes,
        values.Version,
        Now = DbTime.ToText(now),
    };
}

/// <summary>Whether <see cref="Rule"/> matches the post at <see cref="PostUri"/>.</summary>
public sealed record RuleVerdict(string PostUri, TagRule Rule, bool Matches);
