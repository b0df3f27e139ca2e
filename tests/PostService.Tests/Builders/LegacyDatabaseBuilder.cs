using Dapper;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Builders;

/// <summary>
/// compliance.db files as the Python compliance tracker wrote them: the old layout (author columns in
/// <c>feed_request_posts</c>, with or without <c>id</c> and the UNIQUE constraint, duplicates, no <c>posts</c>) and the
/// newer one (current <c>feed_request_posts</c>, a <c>posts</c> table with the tool's statuses). Rows are written with
/// INSERT OR REPLACE, as the tool did, so a file with the UNIQUE constraint keeps only the latest of a pair.
/// </summary>
public sealed class LegacyDatabaseBuilder
{
    public const string SubscriberDid = "did:plc:subscriber1";

    private const string LegacyFeedRequests = """
        CREATE TABLE feed_requests (
            request_id INTEGER PRIMARY KEY, requester_did TEXT NOT NULL, algo TEXT, timestamp TEXT NOT NULL, posts_json TEXT)
        """;

    private const string OldServedColumns = """
        request_id INTEGER, post_index INTEGER, post_uri TEXT, post_json TEXT, post_author_did TEXT, post_author_handle TEXT
        """;

    private const string AuthorIndexes = """
        CREATE INDEX idx_frp_author_did ON feed_request_posts(post_author_did);
        CREATE INDEX idx_frp_author_handle ON feed_request_posts(post_author_handle);
        CREATE INDEX idx_frp_request ON feed_request_posts(request_id);
        """;

    private const string NewerServed = """
        CREATE TABLE feed_request_posts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            request_id INTEGER NOT NULL REFERENCES feed_requests(request_id) ON DELETE CASCADE,
            post_index INTEGER, post_uri TEXT, post_json TEXT,
            UNIQUE(request_id, post_uri));
        CREATE INDEX idx_feed_request_posts_uri ON feed_request_posts(post_uri);
        """;

    private const string PythonPosts = """
        CREATE TABLE posts (
            post_uri TEXT PRIMARY KEY, cid TEXT, author_did TEXT, author_handle TEXT, indexed_at TEXT, created_at TEXT,
            last_hydrated_at TEXT, hydration_status TEXT NOT NULL DEFAULT 'pending', hydration_error TEXT)
        """;

    private const string TablesPostServiceDoesNotOwn = """
        CREATE TABLE engagements (
            id INTEGER PRIMARY KEY, request_id INTEGER, post_uri TEXT, kind TEXT, weight REAL, payload BLOB, created_at TEXT);
        CREATE INDEX idx_engagements_uri ON engagements(post_uri);
        CREATE TABLE subscriber_snapshots (did TEXT, snapshot_at TEXT, data TEXT, PRIMARY KEY (did, snapshot_at));
        CREATE TABLE subscriber_follow_counts (did TEXT PRIMARY KEY, follows INTEGER, followers INTEGER, ratio REAL);
        INSERT INTO engagements VALUES
            (1, 1, 'at://did:plc:author1/app.bsky.feed.post/a', 'like', 0.1, x'00FF10', '2024-05-01T10:00:05Z'),
            (7, 2, 'at://did:plc:author1/app.bsky.feed.post/a', 'repost', 1e300, NULL, NULL),
            (9, 99, NULL, 'click', -0.0000001234, x'', '2024-05-02 08:00:00');
        INSERT INTO subscriber_snapshots VALUES
            ('did:plc:subscriber1', '2024-05-01', '{"follows": 12, "name": "Zoë 🦋"}'),
            ('did:plc:subscriber2', '2024-05-01', NULL),
            ('did:plc:subscriber1', '2024-05-02', 'not json at all');
        INSERT INTO subscriber_follow_counts VALUES
            ('did:plc:subscriber1', 12, 9007199254740993, 0.30000000000000004),
            ('did:plc:subscriber2', 0, NULL, NULL);
        """;

    private readonly List<(string Sql, object? Parameters)> _statements = [];
    private readonly bool _oldLayout;

    private LegacyDatabaseBuilder(bool oldLayout, params string[] schema)
    {
        _oldLayout = oldLayout;
        _statements.AddRange(schema.Select(sql => (sql, (object?)null)));
    }

    public static string Uri(string rkey, string did = "did:plc:author1") => RetrievalBuilder.PostUri(rkey, did);

    /// <summary>The tool's first layout: author columns (indexed), no <c>posts</c> table.</summary>
    public static LegacyDatabaseBuilder OldLayout(bool withId = false, bool withUnique = false)
    {
        var columns = (withId ? "id INTEGER PRIMARY KEY AUTOINCREMENT, " : "") + OldServedColumns + (withUnique ? ", UNIQUE(request_id, post_uri)" : "");
        return new LegacyDatabaseBuilder(true, LegacyFeedRequests, $"CREATE TABLE feed_request_posts ({columns})", AuthorIndexes);
    }

    /// <summary>The tool's later layout: the current <c>feed_request_posts</c> and its own <c>posts</c> table.</summary>
    public static LegacyDatabaseBuilder NewerLayout() => new(false, LegacyFeedRequests, NewerServed, PythonPosts);

    public LegacyDatabaseBuilder WithRequest(long requestId, string timestamp, string requesterDid = SubscriberDid) =>
        Add("INSERT INTO feed_requests VALUES (@requestId, @requesterDid, 'research-feed', @timestamp, '[]')",
            new { requestId, requesterDid, timestamp });

    public LegacyDatabaseBuilder WithServed(long requestId, int? index, string? uri, string? postJson, string? authorDid = null, string? authorHandle = null) =>
        _oldLayout
            ? Add("""
                  INSERT OR REPLACE INTO feed_request_posts (request_id, post_index, post_uri, post_json, post_author_did, post_author_handle)
                  VALUES (@requestId, @index, @uri, @postJson, @authorDid, @authorHandle)
                  """, new { requestId, index, uri, postJson, authorDid, authorHandle })
            : Add("INSERT OR REPLACE INTO feed_request_posts (request_id, post_index, post_uri, post_json) VALUES (@requestId, @index, @uri, @postJson)",
                new { requestId, index, uri, postJson });

    /// <summary>
    /// Requests 1000 and up, <paramref name="postsPerRequest"/> served rows each (old layout: with authors on every
    /// third row), drawn from a pool of URIs so that posts repeat across requests: a file big enough to take a while.
    /// </summary>
    public LegacyDatabaseBuilder WithManyRequests(int requests, int postsPerRequest)
    {
        for (var request = 1_000; request < 1_000 + requests; request++)
        {
            WithRequest(request, $"2024-06-01T00:00:{request % 60:00}.000Z");
            for (var index = 0; index < postsPerRequest; index++)
            {
                var author = $"did:plc:bulk{(request + index) % 97}";
                var uri = Uri($"m{(request * 7 + index * 13) % 5_000}", author);
                WithServed(request, index, uri, $$"""{"uri": "{{uri}}"}""",
                    index % 3 == 0 ? author : null, index % 3 == 0 ? $"bulk{(request + index) % 97}.test" : null);
            }
        }
        return this;
    }

    /// <summary>A <c>posts</c> row as the newer tool wrote it (newer layout only).</summary>
    public LegacyDatabaseBuilder WithPythonPost(string uri, string status, string? authorDid = null, string? authorHandle = null,
        string? cid = null, string? hydratedAt = null, string? error = null) =>
        Add("""
            INSERT INTO posts (post_uri, cid, author_did, author_handle, indexed_at, created_at, last_hydrated_at, hydration_status, hydration_error)
            VALUES (@uri, @cid, @authorDid, @authorHandle, @indexedAt, @createdAt, @hydratedAt, @status, @error)
            """, new
        {
            uri, cid, authorDid, authorHandle, status, hydratedAt, error,
            indexedAt = status == "ok" ? "2024-05-01T09:00:00.480Z" : null,
            createdAt = status == "ok" ? "2024-05-01T09:00:00.000Z" : null,
        });

    /// <summary>engagements, subscriber_snapshots and subscriber_follow_counts, with values of every storage class.</summary>
    public LegacyDatabaseBuilder WithTablesPostServiceDoesNotOwn() => Add(TablesPostServiceDoesNotOwn);

    /// <summary>
    /// Three requests and an orphan row exercising every legacy oddity: duplicate pairs, NULL, empty and malformed
    /// post_json, JSON that is not an object, authors only in post_json, partial authors, items without URI, a
    /// handle-based URI.
    /// </summary>
    public LegacyDatabaseBuilder WithSampleData()
    {
        WithRequest(1, "2024-05-01T10:00:00.000Z").WithRequest(2, "2024-05-02T11:30:00.250Z").WithRequest(3, "2024-05-03T09:15:00+00:00");
        if (_oldLayout)
        {
            return WithServed(1, 0, Uri("a"), """{"uri": "at://did:plc:author1/app.bsky.feed.post/a", "cid": "bafyA1"}""", "did:plc:author1", "alice.test")
                .WithServed(1, 1, Uri("b"), """{"uri": "at://did:plc:author1/app.bsky.feed.post/b"}""")
                .WithServed(1, 2, Uri("c", "did:plc:author3"), """{"uri": "at://""", "did:plc:author3")
                .WithServed(1, 3, Uri("a"), """{"uri": "at://did:plc:author1/app.bsky.feed.post/a", "cid": "bafyA2"}""", "did:plc:author1", "alice2.test")
                .WithServed(1, 1, Uri("b"), """{"uri": "at://did:plc:author1/app.bsky.feed.post/b"}""")
                .WithServed(2, 0, Uri("a"), null, "", "")
                .WithServed(2, 1, Uri("d", "did:plc:author4"), """{"cid": "bafyD", "author": {"did": "did:plc:author4", "handle": "dan.test"}}""")
                .WithServed(2, 2, null, """{"position": 2}""")
                .WithServed(2, 3, null, null)
                .WithServed(3, 0, Uri("e", "did:plc:author5"), "[1, 2]", null, "erin.test")
                .WithServed(3, 1, Uri("f", "did:plc:author6"), """{"author": "did:plc:author6"}""")
                .WithServed(3, 2, Uri("b"), """{"author": {"did": 5}}""", "did:plc:author1", "alice.test")
                .WithServed(3, 3, Uri("f", "did:plc:author6"), """{"cid": "bafyF", "author": {"did": "did:plc:author6"}}""")
                .WithServed(3, 4, "at://handle.test/app.bsky.feed.post/h", "")
                .WithServed(99, 0, Uri("g", "did:plc:author7"), "{}", "did:plc:author7", "gus.test");
        }
        return WithServed(1, 0, Uri("a"), """{"uri": "at://did:plc:author1/app.bsky.feed.post/a"}""")
            .WithServed(1, 1, Uri("b"), null)
            .WithServed(2, 0, Uri("c"), "not json")
            .WithServed(2, 1, Uri("d"), """{"cid": "bafyD"}""")
            .WithServed(2, 2, null, """{"position": 2}""")
            .WithServed(3, 0, Uri("h", "did:plc:author8"), """{"cid": "bafyH", "author": {"did": "did:plc:author8", "handle": "hal.test"}}""")
            .WithServed(3, 1, Uri("a"), """{"uri": "at://did:plc:author1/app.bsky.feed.post/a", "position": 1}""")
            .WithPythonPost(Uri("a"), "ok", "did:plc:author1", "alice.test", "bafyA", "2024-05-01T12:00:00.000Z")
            .WithPythonPost(Uri("b"), "pending")
            .WithPythonPost(Uri("c"), "not_found", hydratedAt: "2024-05-02T12:00:00.000Z", error: "post not found")
            .WithPythonPost(Uri("d"), "error", cid: "bafyD", hydratedAt: "2024-05-02T12:00:01.000Z", error: "HTTP 502");
    }

    public string Write(string path)
    {
        using var connection = DatabaseDump.Open(path);
        using var transaction = connection.BeginTransaction();
        foreach (var (sql, parameters) in _statements)
        {
            connection.Execute(sql, parameters, transaction);
        }
        transaction.Commit();
        return path;
    }

    private LegacyDatabaseBuilder Add(string sql, object? parameters = null)
    {
        _statements.Add((sql, parameters));
        return this;
    }
}
