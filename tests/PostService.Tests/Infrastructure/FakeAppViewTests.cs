using System.Net;
using System.Text.Json.Nodes;

namespace PostService.Tests.Infrastructure;

/// <summary>
/// Checks the fake against the observed AppView behaviour (shared/realappview/README.md) with a plain HttpClient,
/// so tests that rely on it are testing the client, not the fake's quirks.
/// </summary>
public sealed class FakeAppViewTests : IAsyncLifetime
{
    private const string Did = "did:plc:w6bi6bljjbl67ox3fucssffl";

    private readonly HttpClient _http = new();
    private FakeAppView _fake = null!;

    public async Task InitializeAsync() => _fake = await FakeAppView.StartAsync();

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _fake.DisposeAsync();
    }

    [Theory]
    [InlineData("")]
    [InlineData("?uris=")]
    public async Task MissingOrEmptyUrisGiveInvalidRequest(string query)
    {
        var (status, _, raw) = await GetAsync(query);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(
            """{"error":"InvalidRequest","message":"Invalid app.bsky.feed.getPosts params: Missing required key \"uris\""}""",
            raw);
    }

    [Fact]
    public async Task MoreThanTwentyFiveUrisGiveArrayTooBigCountingDuplicates()
    {
        var (status, body, _) = await GetAsync(Query(Enumerable.Repeat(PostUri("3kdup00000001"), 26)));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("Invalid app.bsky.feed.getPosts params: array too big (maximum 25, got 26)", (string?)body["message"]);
    }

    [Fact]
    public async Task HandleBasedUriGivesInternalServerErrorForTheWholeBatch()
    {
        var known = _fake.AddPost(PostUri("3kknown000001"));

        var (status, _, raw) = await GetAsync(Query([known.Uri, "at://alice.test/app.bsky.feed.post/3kknown000001"]));

        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.Equal("""{"error":"InternalServerError","message":"Internal Server Error"}""", raw);
    }

    [Fact]
    public async Task KnownPostsComeBackInRequestOrderDeduplicatedWithUnknownOmitted()
    {
        var a = _fake.AddPost(PostUri("3kaaaaaaaaaa1"));
        var b = _fake.AddPost(PostUri("3kbbbbbbbbbb1"));
        var c = _fake.AddPost(PostUri("3kcccccccccc1"));

        var (status, body, _) = await GetAsync(Query([c.Uri, a.Uri, PostUri("3kunknown0001"), c.Uri, b.Uri]));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal([c.Uri, a.Uri, b.Uri], body["posts"]!.AsArray().Select(post => (string)post!["uri"]!));
    }

    [Fact]
    public async Task GeneratedPostHasTheLexiconShape()
    {
        var post = _fake.AddPost(PostUri("3kshape000001"));

        var (_, body, _) = await GetAsync(Query([post.Uri]));

        var view = body["posts"]![0]!;
        Assert.Equal(post.Uri, (string?)view["uri"]);
        Assert.Matches("^bafyrei[a-z2-7]{52}$", (string?)view["cid"]);
        Assert.Equal(Did, (string?)view["author"]!["did"]);
        Assert.EndsWith(".test", (string?)view["author"]!["handle"]);
        Assert.Equal("app.bsky.feed.post", (string?)view["record"]!["$type"]);
        Assert.Matches(@"^post \d+$", (string?)view["record"]!["text"]);
        Assert.Matches(@"^2024-05-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", (string?)view["record"]!["createdAt"]);
        Assert.Matches(@"^2024-05-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", (string?)view["indexedAt"]);
        Assert.Equal(0, (long?)view["likeCount"]);
    }

    [Fact]
    public async Task ServerSideRateLimitAnswersTooManyRequestsBeyondTheLimit()
    {
        _fake.LimitRate(2, TimeSpan.FromMinutes(1));
        var query = Query([PostUri("3kfine0000001")]);

        await GetAsync(query);
        await GetAsync(query);
        using var response = await _http.GetAsync(_fake.BaseUrl + "/xrpc/app.bsky.feed.getPosts" + query);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("0", response.Headers.GetValues("RateLimit-Remaining").Single());
        Assert.Equal("2;w=60", response.Headers.GetValues("RateLimit-Policy").Single());
        Assert.InRange(response.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(59), TimeSpan.FromSeconds(60));
        Assert.Equal([200, 200, 429], _fake.Calls.Select(call => call.Status));
    }

    [Fact]
    public async Task CallLogMeasuresConcurrencyPacingAndOverlappingUris()
    {
        // Every call lasts at least the latency, so a window shorter than it can only hold the concurrent three.
        _fake.Latency = TimeSpan.FromMilliseconds(600);
        var shared = PostUri("3kshared00001");

        await Task.WhenAll(
            GetAsync(Query([shared, PostUri("3kone00000001")])),
            GetAsync(Query([shared, PostUri("3ktwo00000001")])),
            GetAsync(Query([PostUri("3kthree000001")])));
        await GetAsync(Query([shared]));

        Assert.Equal(4, _fake.Calls.Count);
        Assert.All(_fake.Calls, call => Assert.True(call.EndedAt > call.StartedAt));
        Assert.Equal(3, _fake.MaxConcurrentCalls);
        Assert.Equal(3, _fake.CallsInAnyWindow(TimeSpan.FromMilliseconds(550)));
        Assert.Equal(4, _fake.CallsInAnyWindow(TimeSpan.FromSeconds(30)));
        Assert.Equal([shared], _fake.UrisInOverlappingCalls());
    }

    [Fact]
    public async Task HangingCallIsLoggedAsClosedWhenTheClientGivesUp()
    {
        _fake.Script.Enqueue(FakeResponse.Hang(TimeSpan.FromSeconds(30)));
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _http.GetAsync(
            _fake.BaseUrl + "/xrpc/app.bsky.feed.getPosts" + Query([PostUri("3kfine0000001")]), cancellation.Token));

        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (_fake.Calls.Single().Status is null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(FakeAppView.StatusClientClosedRequest, _fake.Calls.Single().Status);
    }

    private async Task<(HttpStatusCode Status, JsonNode Body, string RawBody)> GetAsync(string query)
    {
        using var response = await _http.GetAsync(_fake.BaseUrl + "/xrpc/app.bsky.feed.getPosts" + query);
        var raw = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonNode.Parse(raw)!, raw);
    }

    private static string Query(IEnumerable<string> uris) =>
        "?" + string.Join("&", uris.Select(uri => "uris=" + Uri.EscapeDataString(uri)));

    private static string PostUri(string rkey) => $"at://{Did}/app.bsky.feed.post/{rkey}";
}
