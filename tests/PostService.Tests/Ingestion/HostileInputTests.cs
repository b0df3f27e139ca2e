using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Dapper;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;
using Xunit.Abstractions;
using static PostService.Tests.Ingestion.HostileInput;

namespace PostService.Tests.Ingestion;

/// <summary>One service for the whole table: every case checks its own effect on the row counts.</summary>
public sealed class HostileInputService : IDisposable
{
    public HostileInputService() => Service.CreateClient().Dispose(); // starts it: migrations create the tables

    public PostServiceFactory Service { get; } = new();

    public void Dispose() => Service.Dispose();
}

/// <summary>
/// Hostile and broken bodies for <c>POST /feed-retrievals</c>. Each refused one gets a clear 4xx problem naming what
/// is wrong, stores nothing, and leaves the service serving. Odd but realistic records are stored and flagged instead
/// (see README, Ingestion rules): those cases are in the second table.
/// </summary>
public sealed class HostileInputTests(HostileInputService fixture, ITestOutputHelper output) : IClassFixture<HostileInputService>
{
    private readonly PostServiceFactory _service = fixture.Service;

    public sealed record Refused(byte[] Body, HttpStatusCode Status, string DetailContains, string ContentType = "application/json");

    private static Refused Bad(string json, string detail) => new(Encoding.UTF8.GetBytes(json), HttpStatusCode.BadRequest, detail);

    private static readonly string LongUri = "\"at://did:plc:a/app.bsky.feed.post/" + new string('k', 8_200) + "\"";

    private static readonly Dictionary<string, Refused> RefusedCases = new()
    {
        // Malformed JSON
        ["truncated"] = Bad("""{"retrievals":[{"id":1,""", "not valid JSON"),
        ["trailing garbage"] = Bad(Batch(Retrieval()) + "}", "not valid JSON"),
        ["single quotes"] = Bad("{'retrievals':[]}", "not valid JSON"),
        ["empty body"] = Bad("", "not valid JSON"),
        ["not an object"] = Bad("[]", "JSON object"),
        ["a bare string"] = Bad("\"retrievals\"", "JSON object"),
        ["retrievals is an object"] = Bad("""{"retrievals":{}}""", "'retrievals'"),
        ["retrievals is null"] = Bad("""{"retrievals":null}""", "'retrievals'"),
        // Empty arrays
        ["no retrievals"] = Bad(Batch(), "empty"),
        // Wrong types in every field
        ["retrieval is a number"] = Bad(Batch("1"), "retrievals[0] must be an object"),
        ["id as a string"] = Bad(Batch(Retrieval(id: "\"1\"")), "retrievals[0].id must be an integer"),
        ["id as a bool"] = Bad(Batch(Retrieval(id: "true")), "retrievals[0].id must be an integer"),
        ["id as a fraction"] = Bad(Batch(Retrieval(id: "1.5")), "retrievals[0].id must be an integer"),
        ["id as an object"] = Bad(Batch(Retrieval(id: "{}")), "retrievals[0].id must be an integer"),
        ["requester_did as a number"] = Bad(Batch(Retrieval(requesterDid: "5")), "retrievals[0].requester_did must be a string"),
        ["requester_did as an array"] = Bad(Batch(Retrieval(requesterDid: "[\"did:plc:a\"]")), "retrievals[0].requester_did must be a string"),
        ["algo as a number"] = Bad(Batch(Retrieval(algo: "5")), "retrievals[0].algo must be a string"),
        ["algo as an object"] = Bad(Batch(Retrieval(algo: "{}")), "retrievals[0].algo must be a string"),
        ["timestamp as a number"] = Bad(Batch(Retrieval(timestamp: "1714564800")), "retrievals[0].timestamp must be a string"),
        ["posts as a string"] = Bad(Batch(Retrieval(posts: "\"[]\"")), "retrievals[0].posts must be an array"),
        ["post is a string"] = Bad(Batch(Retrieval(posts: $"[{ValidUri}]")), "retrievals[0].posts[0] must be an object"),
        ["uri as a number"] = Bad(Batch(Retrieval(posts: $"[{Post(uri: "5")}]")), "retrievals[0].posts[0].uri must be a string"),
        ["uri as an object"] = Bad(Batch(Retrieval(posts: $"[{Post(uri: "{\"uri\":1}")}]")), "retrievals[0].posts[0].uri must be a string"),
        ["cid as a number"] = Bad(Batch(Retrieval(posts: $"[{Post(cid: "12")}]")), "retrievals[0].posts[0].cid must be a string"),
        ["cid as a bool"] = Bad(Batch(Retrieval(posts: $"[{Post(cid: "false")}]")), "retrievals[0].posts[0].cid must be a string"),
        // Huge numbers
        ["id beyond 64 bits"] = Bad(Batch(Retrieval(id: "99999999999999999999999")), "retrievals[0].id must be an integer"),
        ["id 1e400"] = Bad(Batch(Retrieval(id: "1e400")), "retrievals[0].id must be an integer"),
        // Missing and null fields
        ["id missing"] = Bad(Batch(Retrieval(id: Omit)), "retrievals[0].id is required"),
        ["id null"] = Bad(Batch(Retrieval(id: "null")), "retrievals[0].id is required"),
        ["requester_did missing"] = Bad(Batch(Retrieval(requesterDid: Omit)), "retrievals[0].requester_did is required"),
        ["requester_did null"] = Bad(Batch(Retrieval(requesterDid: "null")), "retrievals[0].requester_did is required"),
        ["requester_did empty"] = Bad(Batch(Retrieval(requesterDid: "\"\"")), "retrievals[0].requester_did is required"),
        ["timestamp missing"] = Bad(Batch(Retrieval(timestamp: Omit)), "retrievals[0].timestamp is required"),
        ["timestamp null"] = Bad(Batch(Retrieval(timestamp: "null")), "retrievals[0].timestamp is required"),
        // A timestamp that is not a date
        ["timestamp in words"] = Bad(Batch(Retrieval(timestamp: "\"yesterday\"")), "retrievals[0].timestamp 'yesterday' is not an ISO-8601"),
        ["timestamp month 13"] = Bad(Batch(Retrieval(timestamp: "\"2025-13-45T00:00:00Z\"")), "is not an ISO-8601"),
        ["timestamp of zeros"] = Bad(Batch(Retrieval(timestamp: "\"0000-00-00T00:00:00Z\"")), "is not an ISO-8601"),
        ["timestamp as SQL"] = Bad(Batch(Retrieval(timestamp: Q("2025-05-01'); DROP TABLE feed_requests;--"))), "is not an ISO-8601"),
        ["timestamp too long"] = Bad(Batch(Retrieval(timestamp: Q("2025-05-01T12:00:00" + new string('0', 100) + "Z"))), "at most 64"),
        // Limits: 10,000 posts in one retrieval, too many retrievals, very long strings
        ["10,000 posts in one retrieval"] = Bad(
            Batch(Retrieval(posts: "[" + string.Join(",", Enumerable.Range(0, 10_000).Select(i => Post(uri: Q($"at://did:plc:a/app.bsky.feed.post/p{i}"), position: $"{i}"))) + "]")),
            "retrievals[0].posts holds 10000 posts; at most 1000"),
        ["1,001 retrievals"] = Bad(Batch([.. Enumerable.Range(1, 1_001).Select(i => Retrieval(id: $"{i}"))]), "at most 1000"),
        ["a URI over 8 KiB"] = Bad(Batch(Retrieval(posts: $"[{Post(uri: LongUri)}]")), "retrievals[0].posts[0].uri is 8234 characters long; at most 8192"),
        ["a 1 MB URI"] = Bad(Batch(Retrieval(posts: $"[{Post(uri: Q(new string('a', 1_000_000)))}]")), "at most 8192"),
        ["a DID over 2 KiB"] = Bad(Batch(Retrieval(requesterDid: Q("did:plc:" + new string('a', 3_000)))), "retrievals[0].requester_did is 3008 characters long"),
        ["a CID over 256 characters"] = Bad(Batch(Retrieval(posts: $"[{Post(cid: Q(new string('b', 300)))}]")), "retrievals[0].posts[0].cid is 300 characters long"),
        ["an algo over 8 KiB"] = Bad(Batch(Retrieval(algo: Q(new string('f', 9_000)))), "retrievals[0].algo is 9000 characters long"),
        // Deeply nested post_json
        ["post item nested 10,000 deep"] = Bad(Batch(Retrieval(posts: $"[{{\"uri\":{ValidUri},\"extra\":{Nested(10_000)}}}]")), "depth of 64"),
        ["post item nested 65 deep"] = Bad(Batch(Retrieval(posts: $"[{{\"uri\":{ValidUri},\"extra\":{Nested(62)}}}]")), "depth of 64"),
        // Invalid UTF-8
        ["invalid UTF-8 in a DID"] = new(WithRawBytes(Batch(Retrieval(requesterDid: "\"did:plc:@@\"")), 0xC3, 0x28), HttpStatusCode.BadRequest, "not valid UTF-8"),
        ["overlong UTF-8 slash in a URI"] = new(WithRawBytes(Batch(Retrieval(posts: $"[{Post(uri: "\"at:@@@@did:plc:a\"")}]")), 0xC0, 0xAF), HttpStatusCode.BadRequest, "not valid UTF-8"),
        ["a 0xFF byte between fields"] = new(WithRawBytes(Batch(Retrieval(id: "1 @@")), 0xFF), HttpStatusCode.BadRequest, "not valid UTF-8"),
        ["an unpaired surrogate escape in a DID"] = Bad(Batch(Retrieval(requesterDid: "\"did:plc:\\ud800\"")), "is not valid Unicode"),
        ["an unpaired surrogate escape in a URI"] = Bad(Batch(Retrieval(posts: $"[{Post(uri: "\"at://did:plc:a/app.bsky.feed.post/\\udfff\"")}]")), "is not valid Unicode"),
        // NUL bytes and other control characters
        ["a raw NUL byte in a DID"] = new(WithRawBytes(Batch(Retrieval(requesterDid: "\"did:plc:@@\"")), 0x00), HttpStatusCode.BadRequest, "not valid JSON"),
        ["a raw NUL byte between fields"] = new(WithRawBytes(Batch(Retrieval(id: "1@@")), 0x00), HttpStatusCode.BadRequest, "not valid JSON"),
        ["an escaped NUL in a DID"] = Bad(Batch(Retrieval(requesterDid: Q("did:plc:a\0"))), "contains U+0000"),
        ["an escaped NUL in a URI"] = Bad(Batch(Retrieval(posts: $"[{Post(uri: Q("at://did:plc:a/app.bsky.feed.post/\0"))}]")), "contains U+0000"),
        ["an escaped NUL in a CID"] = Bad(Batch(Retrieval(posts: $"[{Post(cid: Q("bafy\0"))}]")), "contains U+0000"),
        ["an escaped NUL in algo"] = Bad(Batch(Retrieval(algo: Q("\0"))), "contains U+0000"),
        ["an escaped NUL deep in a post item"] = Bad(Batch(Retrieval(posts: $"[{{\"uri\":\"at://did:plc:a/app.bsky.feed.post/n\",\"extra\":{{\"k\":[\"\\u0000\"]}}}}]")), "contains U+0000"),
        ["a forged log line in a DID"] = Bad(Batch(Retrieval(requesterDid: Q("did:plc:a\ninfo: all good"))), "contains a control character"),
        ["DEL in a timestamp"] = Bad(Batch(Retrieval(timestamp: Q("2025-05-01T12:00:00Z\u007f"))), "contains a control character"),
        // Duplicate ids inside one batch, with different content
        ["two different records with one id"] = Bad(
            Batch(Retrieval(id: "7"), Retrieval(id: "8"), Retrieval(id: "7", requesterDid: "\"did:plc:other\"")),
            "retrievals[0] and retrievals[2] have the same id 7 but differ"),
        ["a bad retrieval after good ones"] = Bad(Batch(Retrieval(id: "1"), Retrieval(id: "2"), Retrieval(id: "3", timestamp: "\"soon\"")), "retrievals[2].timestamp"),
        // Not JSON at all
        ["a form post"] = new(Encoding.UTF8.GetBytes("id=1&requester_did=x"), HttpStatusCode.UnsupportedMediaType, "", "application/x-www-form-urlencoded"),
    };

    public static TheoryData<string> RefusedCaseNames => [.. RefusedCases.Keys];

    [Theory]
    [MemberData(nameof(RefusedCaseNames))]
    public async Task AHostileBodyIsRefusedWithAClearProblemStoresNothingAndTheServiceKeepsServing(string name)
    {
        var hostile = RefusedCases[name];
        var before = RowCounts();
        var content = new ByteArrayContent(hostile.Body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(hostile.ContentType);

        var response = await _service.CreateClient().PostAsync("/feed-retrievals", content);

        var problem = await response.AssertProblemAsync(hostile.Status);
        if (hostile.DetailContains.Length > 0)
        {
            Assert.Contains(hostile.DetailContains, problem.Detail());
        }
        Assert.Equal(before, RowCounts());
        await AssertStillServingAsync();
    }

    public sealed record Stored(string Json, string Check);

    private static readonly Dictionary<string, Stored> StoredCases = new()
    {
        // SQL text is data: stored verbatim through parameters, never run.
        ["SQL text in every string"] = new(
            Batch(Retrieval(id: "9001", requesterDid: Q("did:plc:x'); DROP TABLE posts;--"), algo: Q("' OR 1=1; DELETE FROM feed_requests;--"),
                posts: $"[{Post(uri: Q("at://did:plc:a/app.bsky.feed.post/1'; DROP TABLE feed_request_posts;--"), cid: Q("\"; DROP TABLE posts;--"))}]")),
            """
            SELECT count(*) FROM feed_requests WHERE request_id = 9001 AND requester_did = 'did:plc:x''); DROP TABLE posts;--'
              AND algo = ''' OR 1=1; DELETE FROM feed_requests;--'
            """),
        // A URI a feed served is a fact to record even when it is not a post's at-URI: an invalid post, with the reason.
        ["a URI with a query string"] = new(
            Batch(Retrieval(id: "9002", posts: $"[{Post(uri: Q("at://did:plc:a/app.bsky.feed.post/3kq?x=1"))}]")),
            "SELECT count(*) FROM posts WHERE post_uri = 'at://did:plc:a/app.bsky.feed.post/3kq?x=1' AND hydration_status = 'invalid' AND hydration_error LIKE '%no query or fragment%'"),
        ["a URI with a fragment"] = new(
            Batch(Retrieval(id: "9003", posts: $"[{Post(uri: Q("at://did:plc:a/app.bsky.feed.post/3kf#frag"))}]")),
            "SELECT count(*) FROM posts WHERE post_uri = 'at://did:plc:a/app.bsky.feed.post/3kf#frag' AND hydration_status = 'invalid'"),
        ["a URI of exactly 8 KiB"] = new(
            Batch(Retrieval(id: "9004", posts: $"[{Post(uri: Q("at://did:plc:a/app.bsky.feed.post/" + new string('k', 8_192 - 34)))}]")),
            "SELECT count(*) FROM posts WHERE length(post_uri) = 8192 AND hydration_status = 'invalid'"),
        // Positions the feed bot forwards unchanged: unknown (NULL), the item kept verbatim.
        ["a negative position"] = new(
            Batch(Retrieval(id: "9005", posts: $"[{Post(position: "-3")}]")),
            """SELECT count(*) FROM feed_request_posts WHERE request_id = 9005 AND post_index IS NULL AND post_json LIKE '%"position":-3%'"""),
        ["non-numeric positions"] = new(
            Batch(Retrieval(id: "9006", posts: $"[{Post(position: "\"first\"")},{Post(uri: Q("at://did:plc:a/app.bsky.feed.post/b"), position: "true")},{Post(uri: Q("at://did:plc:a/app.bsky.feed.post/c"), position: "{}")}]")),
            "SELECT count(*) = 3 FROM feed_request_posts WHERE request_id = 9006 AND post_index IS NULL"),
        ["huge positions"] = new(
            Batch(Retrieval(id: "9007", posts: $"[{Post(position: "1e400")},{Post(uri: Q("at://did:plc:a/app.bsky.feed.post/b"), position: "99999999999")},{Post(uri: Q("at://did:plc:a/app.bsky.feed.post/c"), position: "\"-1e400\"")}]")),
            "SELECT count(*) = 3 FROM feed_request_posts WHERE request_id = 9007 AND post_index IS NULL"),
        // Empty arrays that are records: a feed that served nothing; items without a URI.
        ["a retrieval that served nothing"] = new(
            Batch(Retrieval(id: "9008", posts: "[]")),
            "SELECT count(*) FROM feed_requests WHERE request_id = 9008 AND posts_json = '[]' AND NOT EXISTS (SELECT 1 FROM feed_request_posts WHERE request_id = 9008)"),
        ["missing and null optional fields"] = new(
            Batch(Retrieval(id: "9009", algo: "null", posts: $"[{Post(uri: "null", position: "null", cid: "null")},{Post(uri: Omit, position: Omit)}]")),
            "SELECT count(*) = 2 FROM feed_request_posts WHERE request_id = 9009 AND post_uri IS NULL AND post_index IS NULL"),
        // Duplicates: nothing silently lost. A URI served twice is one row at its last position, both items stay in
        // posts_json; a byte-identical copy of a retrieval is stored once. The response counts both.
        ["a URI served twice in one retrieval"] = new(
            Batch(Retrieval(id: "9010", posts: $"[{Post(position: "1")},{Post(position: "4")}]")),
            """
            SELECT count(*) FROM feed_request_posts f JOIN feed_requests r USING (request_id)
            WHERE request_id = 9010 AND post_index = 4 AND json_array_length(r.posts_json) = 2
            """),
        ["the same retrieval twice in one batch"] = new(
            Batch(Retrieval(id: "9011"), Retrieval(id: "9011")),
            "SELECT count(*) FROM feed_request_posts WHERE request_id = 9011"),
    };

    public static TheoryData<string> StoredCaseNames => [.. StoredCases.Keys];

    [Theory]
    [MemberData(nameof(StoredCaseNames))]
    public async Task AnOddButRealisticRecordIsStoredAsSentAndFlagged(string name)
    {
        var odd = StoredCases[name];

        var response = await _service.CreateClient().PostJsonTextAsync("/feed-retrievals", odd.Json);

        await response.AssertOkJsonAsync();
        Assert.Equal(1, _service.Count(odd.Check));
        Assert.Equal(1, _service.Count("SELECT count(*) FROM sqlite_master WHERE name = 'posts'"));
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task DuplicatesInsideABatchAreCountedInTheResponse()
    {
        var json = Batch(Retrieval(id: "9101", posts: $"[{Post(position: "1")},{Post(position: "2")},{Post(position: "3")}]"), Retrieval(id: "9102"), Retrieval(id: "9102"));

        var result = await (await _service.CreateClient().PostJsonTextAsync("/feed-retrievals", json)).AssertOkJsonAsync();

        Assert.Equal(2, result.GetProperty("requests_stored").GetInt32());
        Assert.Equal(1, result.GetProperty("identical_copies").GetInt32());
        Assert.Equal(2, result.GetProperty("repeated_uris").GetInt32());
        Assert.Contains(_service.Logs.Entries, entry => entry.Message.Contains("1 identical copies of a retrieval") && entry.Message.Contains("2 posts repeating a URI"));
    }

    /// <summary>Over a real socket: the in-memory test server would buffer the whole body whatever the service does.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A100MegabyteBodyIsRefusedWith413WithoutBeingReadWhole(bool declaresLength)
    {
        const long hundredMegabytes = 100L * 1024 * 1024;
        using var service = new PostServiceFactory();
        using var client = new HttpClient { BaseAddress = new Uri(service.StartOnLoopback()) };

        var answer = await RawHttpUpload.PostAsync(client.BaseAddress, "/feed-retrievals", hundredMegabytes, declaresLength, TimeSpan.FromMinutes(2));

        output.WriteLine($"{(declaresLength ? "Content-Length" : "chunked")}: {answer.BytesSent:N0} bytes sent before the answer");
        Assert.True(answer.Status == 413, answer.Head);
        Assert.Contains("Content-Type: application/problem+json", answer.Head);
        Assert.Contains("\"status\":413", answer.Body);
        // The limit is 16 MiB: a declared length over it is refused before reading, a longer chunked body once past it
        // (what is sent beyond that sat in socket buffers).
        Assert.InRange(answer.BytesSent, 0, 40 * 1024 * 1024);
        Assert.Equal(0, service.Count("SELECT count(*) FROM feed_requests"));
        await client.GetOkJsonAsync("/healthz");
        await (await client.PostAsync("/feed-retrievals", RetrievalBuilder.Batch(new RetrievalBuilder().WithPosts(1)).AsJson())).AssertOkJsonAsync();
    }

    [Theory]
    [InlineData("/posts/..%2F..%2F..%2Fetc%2Fpasswd", HttpStatusCode.NotFound)]
    [InlineData("/posts/..%252F..%252Fetc%252Fpasswd", HttpStatusCode.NotFound)]
    [InlineData("/posts/%2e%2e/%2e%2e/appsettings.json", HttpStatusCode.NotFound)]
    [InlineData("/posts/at%253A%252F%252Fdid%253Aplc%253Aauthor1%252Fapp.bsky.feed.post%252F3kvalid", HttpStatusCode.NotFound)]
    [InlineData("/posts/at://did:plc:author1/app.bsky.feed.post/3kvalid'%20OR%20'1'='1", HttpStatusCode.NotFound)]
    [InlineData("/posts/at://did:plc:author1/app.bsky.feed.post/3kvalid", HttpStatusCode.OK)]
    public async Task ReadingAPostByAHostileUriFindsOnlyThatExactUri(string path, HttpStatusCode status)
    {
        (await _service.CreateClient().PostJsonTextAsync("/feed-retrievals", Batch(Retrieval(id: "9201")))).EnsureSuccessStatusCode();

        var response = await _service.CreateClient().GetAsync(path);

        if (status == HttpStatusCode.OK)
        {
            await response.AssertOkJsonAsync();
        }
        else
        {
            await response.AssertProblemAsync(status);
        }
    }

    [Fact]
    public async Task ReadingAPostByAnAbsurdlyLongUriIsA400Problem()
    {
        var response = await _service.CreateClient().GetAsync("/posts/at://did:plc:a/app.bsky.feed.post/" + new string('k', 9_000));

        Assert.Contains("at most 8192", (await response.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail());
    }

    [Fact]
    public async Task ARequestLineKestrelWillNotReadIsRefusedBeforeTheServiceAndItKeepsServing()
    {
        using var service = new PostServiceFactory();
        using var client = new HttpClient { BaseAddress = new Uri(service.StartOnLoopback()) };

        var tooLong = await client.GetAsync("/posts/at://did:plc:a/app.bsky.feed.post/" + new string('k', 100_000));
        var nul = await client.GetAsync("/posts/at://did:plc:a/app.bsky.feed.post/3k%00");

        Assert.Equal(HttpStatusCode.RequestUriTooLong, tooLong.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, nul.StatusCode);
        await client.GetOkJsonAsync("/healthz");
    }

    private (long Requests, long PostRows, long Posts) RowCounts()
    {
        using var db = _service.OpenDatabase();
        return db.QuerySingle<(long, long, long)>(
            "SELECT (SELECT count(*) FROM feed_requests), (SELECT count(*) FROM feed_request_posts), (SELECT count(*) FROM posts)");
    }

    private async Task AssertStillServingAsync()
    {
        var client = _service.CreateClient();
        await client.GetOkJsonAsync("/healthz");
        await (await _service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPosts(1)), client)).AssertOkJsonAsync();
    }
}
