using System.Net;
using Dapper;
using PostService.Storage;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Ingestion;

public abstract class FeedRetrievalsEndpointsTests(DatabaseProvider provider) : IDisposable
{
    public sealed class OnSqlite() : FeedRetrievalsEndpointsTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgres() : FeedRetrievalsEndpointsTests(DatabaseProvider.Postgres), IRunsOnPostgres;

    private readonly PostServiceFactory _service = new(provider: provider);

    public void Dispose() => _service.Dispose();

    [DatabaseFact]
    public async Task PositionsGivenAsIntegersStringsAndFloatsAreStoredAsIntegers()
    {
        var retrieval = new RetrievalBuilder()
            .WithPost(RetrievalBuilder.PostUri("a"), 7)
            .WithPost(RetrievalBuilder.PostUri("b"), "15")
            .WithPost(RetrievalBuilder.PostUri("c"), 3.0)
            .WithPost(RetrievalBuilder.PostUri("d"))
            .WithPost(RetrievalBuilder.PostUri("e"), "first")
            .WithPost(RetrievalBuilder.PostUri("f"), 2.5);

        (await _service.PostRetrievalsAsync(RetrievalBuilder.Batch(retrieval))).EnsureSuccessStatusCode();

        using var db = _service.OpenDatabase();
        var positions = db.Query<(string Uri, long? Index)>(
            "SELECT post_uri, post_index FROM feed_request_posts WHERE request_id = @Id", new { retrieval.Id })
            .ToDictionary(row => row.Uri[^1..], row => row.Index);
        Assert.Equal(7, positions["a"]);
        Assert.Equal(15, positions["b"]);
        Assert.Equal(3, positions["c"]);
        Assert.Null(positions["d"]);
        Assert.Null(positions["e"]);
        Assert.Null(positions["f"]);
    }

    [DatabaseFact]
    public async Task NewUrisBecomePendingPostsAndAreReported()
    {
        var retrieval = new RetrievalBuilder().WithPosts(3);

        var result = await (await _service.PostRetrievalsAsync(RetrievalBuilder.Batch(retrieval))).AssertOkJsonAsync();

        Assert.Equal(1, result.GetProperty("requests_stored").GetInt32());
        Assert.Equal(0, result.GetProperty("requests_replaced").GetInt32());
        Assert.Equal(3, result.GetProperty("post_rows").GetInt32());
        Assert.Equal(3, result.GetProperty("new_posts").GetInt32());
        Assert.Equal(0, result.GetProperty("invalid_uris").GetInt32());
        Assert.Equal(3, result.GetProperty("enqueued").GetInt32());
        Assert.Equal(3, _service.Count("SELECT count(*) FROM posts WHERE hydration_status = 'pending'"));
    }

    [DatabaseFact]
    public async Task RawPayloadIsKeptWhole()
    {
        const string body = """
            {"compliance":[{"id":77,"user_did":"did:plc:sub","timestamp":"2025-05-01T12:00:00+02:00",
              "posts":[{"postUri":"at://did:plc:x/app.bsky.feed.post/r1","position":"15","extra":{"k":[1,2]}}]}]}
            """;

        (await _service.CreateClient().PostJsonTextAsync("/feed-retrievals", body)).EnsureSuccessStatusCode();

        using var db = _service.OpenDatabase();
        var request = db.QuerySingle<(string RequesterDid, string Timestamp, string PostsJson, string? Algo)>(
            "SELECT requester_did, ts_text(timestamp), posts_json, algo FROM feed_requests WHERE request_id = 77");
        Assert.Equal("did:plc:sub", request.RequesterDid);
        Assert.Equal("2025-05-01T10:00:00.000Z", request.Timestamp);
        Assert.Null(request.Algo);
        AssertKept("""[{"postUri":"at://did:plc:x/app.bsky.feed.post/r1","position":"15","extra":{"k":[1,2]}}]""", request.PostsJson);
        var postJson = db.ExecuteScalar<string>("SELECT post_json FROM feed_request_posts WHERE request_id = 77");
        AssertKept("""{"postUri":"at://did:plc:x/app.bsky.feed.post/r1","position":"15","extra":{"k":[1,2]}}""", postJson!);
    }

    /// <summary>SQLite keeps the text as sent; PostgreSQL's jsonb keeps every value, not the spacing or key order.</summary>
    private void AssertKept(string sent, string stored)
    {
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(System.Text.Json.Nodes.JsonNode.Parse(sent), System.Text.Json.Nodes.JsonNode.Parse(stored)),
            $"stored {stored}, sent {sent}");
        if (provider == DatabaseProvider.Sqlite)
        {
            Assert.Equal(sent, stored);
        }
    }

    [DatabaseFact]
    public async Task ResendingARetrievalReplacesItAndItsPosts()
    {
        var first = new RetrievalBuilder().WithPost(RetrievalBuilder.PostUri("old1"), 0).WithPost(RetrievalBuilder.PostUri("old2"), 1);
        (await _service.PostRetrievalsAsync(RetrievalBuilder.Batch(first))).EnsureSuccessStatusCode();

        var again = new RetrievalBuilder().WithId(first.Id).By("did:plc:other").WithPost(RetrievalBuilder.PostUri("new1"), 0);
        var result = await (await _service.PostRetrievalsAsync(RetrievalBuilder.Batch(again))).AssertOkJsonAsync();

        Assert.Equal(1, result.GetProperty("requests_replaced").GetInt32());
        using var db = _service.OpenDatabase();
        Assert.Equal("did:plc:other", db.ExecuteScalar<string>("SELECT requester_did FROM feed_requests WHERE request_id = @Id", new { first.Id }));
        var uris = db.Query<string>("SELECT post_uri FROM feed_request_posts WHERE request_id = @Id", new { first.Id }).ToList();
        Assert.Equal([RetrievalBuilder.PostUri("new1")], uris);
        // The canonical rows of posts served earlier stay: other requests may have served them too.
        Assert.Equal(3, db.ExecuteScalar<long>("SELECT count(*) FROM posts"));
    }

    [DatabaseFact]
    public async Task ABadRetrievalRollsBackTheWholeBatch()
    {
        var good = new RetrievalBuilder().WithPosts(2);
        var bad = new RetrievalBuilder().At(null).WithPosts(2);

        var problem = await (await _service.PostRetrievalsAsync(RetrievalBuilder.Batch(good, bad)))
            .AssertProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains("retrievals[1].timestamp", problem.Detail());
        Assert.Equal(0, _service.Count("SELECT count(*) FROM feed_requests"));
        Assert.Equal(0, _service.Count("SELECT count(*) FROM feed_request_posts"));
        Assert.Equal(0, _service.Count("SELECT count(*) FROM posts"));
    }

    [DatabaseTheory]
    [InlineData("""{"retrievals":[{"requester_did":"did:plc:a","timestamp":"2025-01-01T00:00:00Z"}]}""", "retrievals[0].id")]
    [InlineData("""{"retrievals":[{"id":"seven","requester_did":"did:plc:a","timestamp":"2025-01-01T00:00:00Z"}]}""", "retrievals[0].id")]
    [InlineData("""{"retrievals":[{"id":1,"timestamp":"2025-01-01T00:00:00Z"}]}""", "retrievals[0].requester_did")]
    [InlineData("""{"retrievals":[{"id":1,"requester_did":"did:plc:a","timestamp":"yesterday"}]}""", "retrievals[0].timestamp")]
    [InlineData("""{"retrievals":[{"id":1,"requester_did":"did:plc:a","timestamp":"2025-01-01T00:00:00Z","posts":{}}]}""", "retrievals[0].posts")]
    [InlineData("""{"retrievals":[{"id":1,"requester_did":"did:plc:a","timestamp":"2025-01-01T00:00:00Z","posts":[{"uri":5}]}]}""", "retrievals[0].posts[0].uri")]
    [InlineData("""{"retrievals":[1]}""", "retrievals[0]")]
    [InlineData("""{"posts":[]}""", "retrievals")]
    [InlineData("""[]""", "JSON object")]
    [InlineData("""{"retrievals":[{"id":1,""", "not valid JSON")]
    public async Task PostingAnInvalidBatchReturnsProblemDetailsNamingTheField(string body, string expectedInDetail)
    {
        var response = await _service.CreateClient().PostJsonTextAsync("/feed-retrievals", body);

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains(expectedInDetail, problem.Detail());
        Assert.Equal(0, _service.Count("SELECT count(*) FROM feed_requests"));
    }

    [DatabaseFact]
    public async Task TooManyRetrievalsOrPostsAreRefusedWith400()
    {
        using var limited = new PostServiceFactory(new Dictionary<string, string?>
        {
            ["PostService:Ingestion:MaxRetrievalsPerBatch"] = "2",
            ["PostService:Ingestion:MaxPostsPerRetrieval"] = "3",
        }, provider: provider);

        var tooMany = await limited.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder(), new RetrievalBuilder(), new RetrievalBuilder()));
        var tooLong = await limited.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPosts(4)));

        Assert.Contains("at most 2", (await tooMany.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail());
        Assert.Contains("at most 3", (await tooLong.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail());
        Assert.Equal(0, limited.Count("SELECT count(*) FROM feed_requests"));
    }

    [DatabaseFact]
    public async Task ABodyOverTheSizeLimitIsRefusedWith413()
    {
        using var limited = new PostServiceFactory(new Dictionary<string, string?> { ["PostService:Ingestion:MaxBodyBytes"] = "2048" }, provider: provider);

        var response = await limited.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPosts(40)));

        await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(0, limited.Count("SELECT count(*) FROM feed_requests"));
    }

    [DatabaseFact]
    public async Task InvalidUrisAreStoredButMarkedInvalidAndItemsWithoutUriKeepANullUri()
    {
        var retrieval = new RetrievalBuilder()
            .WithPost("https://bsky.app/profile/alice/post/1", 0)
            .WithPost("at://did:plc:a/app.bsky.feed.like/3k", 1)
            .WithPost(null, 2)
            .WithPost(RetrievalBuilder.PostUri("fine"), 3);

        var result = await (await _service.PostRetrievalsAsync(RetrievalBuilder.Batch(retrieval))).AssertOkJsonAsync();

        Assert.Equal(2, result.GetProperty("invalid_uris").GetInt32());
        Assert.Equal(1, result.GetProperty("new_posts").GetInt32());
        Assert.Equal(4, result.GetProperty("post_rows").GetInt32());
        using var db = _service.OpenDatabase();
        Assert.Equal(1, db.ExecuteScalar<long>("SELECT count(*) FROM feed_request_posts WHERE post_uri IS NULL AND post_index = 2"));
        var invalid = db.Query<(string Uri, string Error)>("SELECT post_uri, hydration_error FROM posts WHERE hydration_status = 'invalid'").ToList();
        Assert.Equal(2, invalid.Count);
        Assert.All(invalid, row => Assert.StartsWith("invalid post at-URI", row.Error));
        Assert.Equal(3, db.ExecuteScalar<long>("SELECT count(*) FROM posts"));
    }

    [DatabaseFact]
    public async Task AnExistingPostKeepsItsStatusAndOnlyGainsAMissingCid()
    {
        var uri = RetrievalBuilder.PostUri("known");
        (await _service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPost(uri, 0)))).EnsureSuccessStatusCode();
        using (var db = _service.OpenDatabase())
        {
            db.Execute("UPDATE posts SET hydration_status = 'ok', author_did = 'did:plc:author1' WHERE post_uri = @uri", new { uri });
        }

        var result = await (await _service.PostRetrievalsAsync(
            RetrievalBuilder.Batch(new RetrievalBuilder().WithPost(uri, 0, cid: "bafyreiexample")))).AssertOkJsonAsync();

        Assert.Equal(0, result.GetProperty("new_posts").GetInt32());
        using var check = _service.OpenDatabase();
        var row = check.QuerySingle<(string Status, string Cid, string Author)>(
            "SELECT hydration_status, cid, author_did FROM posts WHERE post_uri = @uri", new { uri });
        Assert.Equal(("ok", "bafyreiexample", "did:plc:author1"), row);
    }

    [DatabaseFact]
    public async Task EveryServedRowFindsItsPostByNumberAndLaterPostsHaveHigherNumbers()
    {
        var known = RetrievalBuilder.PostUri("stored-by-hand");
        var first = RetrievalBuilder.PostUri("first");
        var second = RetrievalBuilder.PostUri("second");
        _service.CreateClient().Dispose();
        using (var db = _service.OpenDatabase())
        {
            // A post stored by other means than ingestion (as a test or an operator might) has no number given by it.
            db.Execute("INSERT INTO posts (post_uri, hydration_status) VALUES (@known, 'pending')", new { known });
        }
        var early = new RetrievalBuilder().WithPost(first, 0).WithPost(known, 1);
        var late = new RetrievalBuilder().WithPost(second, 0).WithPost(first, 1).WithPost(known, 2).WithPost(null, 3);

        (await _service.PostRetrievalsAsync(RetrievalBuilder.Batch(early))).EnsureSuccessStatusCode();
        (await _service.PostRetrievalsAsync(RetrievalBuilder.Batch(late))).EnsureSuccessStatusCode();

        using var check = _service.OpenDatabase();
        const string ServedBy = """
            SELECT request_id FROM feed_request_posts
            WHERE post_id = (SELECT post_id FROM posts WHERE post_uri = @uri) ORDER BY request_id
            """;
        Assert.Equal([early.Id, late.Id], check.Query<long>(ServedBy, new { uri = first }));
        Assert.Equal([early.Id, late.Id], check.Query<long>(ServedBy, new { uri = known }));
        Assert.Equal([late.Id], check.Query<long>(ServedBy, new { uri = second }));
        Assert.Equal(0, check.ExecuteScalar<long>(PostNumbers.ServedRowsNotFindingTheirPost));
        Assert.Equal(1, check.ExecuteScalar<long>("SELECT count(*) FROM feed_request_posts WHERE post_uri IS NULL AND post_id IS NULL"));
        var number = (string uri) => check.ExecuteScalar<long>("SELECT post_id FROM posts WHERE post_uri = @uri", new { uri });
        Assert.True(number(second) > number(first), "a post first stored later has a higher number");
    }

    [DatabaseFact]
    public async Task AUriServedByManyRetrievalsOfOneBatchIsOneNewPostWithTheFirstCidItWasServedWith()
    {
        var shared = RetrievalBuilder.PostUri("shared");
        var batch = RetrievalBuilder.Batch(
            new RetrievalBuilder().WithPost(shared, 0),
            new RetrievalBuilder().WithPost(shared, 0, cid: "bafyreifirst").WithPost(RetrievalBuilder.PostUri("other"), 1),
            new RetrievalBuilder().WithPost(shared, 0, cid: "bafyreisecond"));

        var result = await (await _service.PostRetrievalsAsync(batch)).AssertOkJsonAsync();

        Assert.Equal(4, result.GetProperty("post_rows").GetInt32());
        Assert.Equal(2, result.GetProperty("new_posts").GetInt32());
        Assert.Equal(2, result.GetProperty("enqueued").GetInt32());
        using var db = _service.OpenDatabase();
        Assert.Equal("bafyreifirst", db.ExecuteScalar<string>("SELECT cid FROM posts WHERE post_uri = @shared", new { shared }));
        Assert.Equal(2, db.ExecuteScalar<long>("SELECT count(*) FROM posts"));
    }

    [DatabaseFact]
    public async Task AUriServedTwiceInOneRetrievalIsOneRowAtItsLatestPosition()
    {
        var uri = RetrievalBuilder.PostUri("twice");
        var retrieval = new RetrievalBuilder().WithPost(uri, 1).WithPost(uri, 5);

        var result = await (await _service.PostRetrievalsAsync(RetrievalBuilder.Batch(retrieval))).AssertOkJsonAsync();

        Assert.Equal(1, result.GetProperty("post_rows").GetInt32());
        Assert.Equal(5, _service.Count("SELECT post_index FROM feed_request_posts WHERE request_id = @Id", new { retrieval.Id }));
    }

    [DatabaseFact]
    public async Task TwentyConcurrentClientsLoseAndDuplicateNothing()
    {
        const int clients = 20;
        const int batchesPerClient = 5;
        var sharedUris = Enumerable.Range(0, 10).Select(i => RetrievalBuilder.PostUri($"shared{i}")).ToArray();

        await Task.WhenAll(Enumerable.Range(0, clients).Select(async client =>
        {
            using var http = _service.CreateClient();
            for (var batch = 0; batch < batchesPerClient; batch++)
            {
                var retrievals = Enumerable.Range(0, 4).Select(_ =>
                {
                    var builder = new RetrievalBuilder().By($"did:plc:client{client}").WithPosts(5, $"c{client}");
                    foreach (var uri in sharedUris)
                    {
                        builder.WithPost(uri, 99);
                    }
                    return builder;
                }).ToArray();
                (await _service.PostRetrievalsAsync(RetrievalBuilder.Batch(retrievals), http)).EnsureSuccessStatusCode();
            }
        }));

        const int requests = clients * batchesPerClient * 4;
        Assert.Equal(requests, _service.Count("SELECT count(*) FROM feed_requests"));
        Assert.Equal(requests * 15, _service.Count("SELECT count(*) FROM feed_request_posts"));
        Assert.Equal(requests * 5 + sharedUris.Length, _service.Count("SELECT count(*) FROM posts"));
        Assert.Equal(0, _service.Count("SELECT count(*) FROM (SELECT request_id, post_uri FROM feed_request_posts GROUP BY 1, 2 HAVING count(*) > 1) repeated"));
    }

    [DatabaseFact]
    public async Task ConcurrentResendsOfOneRetrievalLeaveOneWholeVersion()
    {
        const long id = 777;
        var versions = Enumerable.Range(0, 12)
            .Select(version => Enumerable.Range(0, 6).Select(post => RetrievalBuilder.PostUri($"v{version}p{post}")).Append(RetrievalBuilder.PostUri("shared")).ToArray())
            .ToArray();

        var answers = await Task.WhenAll(versions.Select(async uris =>
        {
            using var http = _service.CreateClient();
            var retrieval = uris.Aggregate(new RetrievalBuilder().WithId(id), (builder, uri) => builder.WithPost(uri));
            return (await _service.PostRetrievalsAsync(RetrievalBuilder.Batch(retrieval), http)).StatusCode;
        }));

        Assert.All(answers, status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.Equal(1, _service.Count("SELECT count(*) FROM feed_requests WHERE request_id = @id", new { id }));
        using var db = _service.OpenDatabase();
        var stored = db.Query<string>("SELECT post_uri FROM feed_request_posts WHERE request_id = @id ORDER BY post_uri", new { id }).ToList();
        Assert.Contains(versions, version => version.Order(StringComparer.Ordinal).SequenceEqual(stored));
        Assert.Equal(versions.Sum(version => version.Length - 1) + 1, _service.Count("SELECT count(*) FROM posts"));
    }
}
