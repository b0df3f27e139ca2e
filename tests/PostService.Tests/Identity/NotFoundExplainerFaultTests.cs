using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using PostService.Identity;
using PostService.Storage.Migrations;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Identity;

/// <summary>
/// What the real network cannot show: identity directories and PDSs that answer malformed documents, unknown methods,
/// unexpected statuses or nothing in time, and account states a PDS reports but the test network cannot produce
/// (taken down or suspended on the PDS, deleted). Each is a reason on the post, never a crash.
/// </summary>
public sealed class NotFoundExplainerFaultTests : IAsyncLifetime
{
    private const string Did = "did:plc:abcdefghijklmnopqrstuvwx";
    private const string Uri = "at://" + Did + "/app.bsky.feed.post/3k2la3b4c5d6e";
    private const string Record = """{"uri":"URI","cid":"bafyreihxgpsoxoeogfpgstg6abg4idoeidxavcmkg52j3i5i2f3qzp52ti","value":{"$type":"app.bsky.feed.post","text":"still here","createdAt":"2025-01-02T03:04:05.000Z","langs":["en"]}}""";

    private readonly string _directory = TempDirectory.Create();
    private ScriptedServer _server = null!;

    public async Task InitializeAsync() => _server = await ScriptedServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        SqliteConnection.ClearAllPools();
        TempDirectory.Delete(_directory);
    }

    private string Document(string did, string? pds = null) =>
        $$"""{"id":"{{did}}","alsoKnownAs":["at://Someone.test"],"service":[{"id":"#atproto_pds","type":"AtprotoPersonalDataServer","serviceEndpoint":"{{pds ?? _server.BaseUrl}}"}]}""";

    private ScriptedServer WithDocument(string did = Did) => _server.Answer("/" + did, 200, Document(did));

    private ScriptedServer WithActiveAccount() =>
        WithDocument().Answer("/xrpc/com.atproto.sync.getRepoStatus", 200, $$"""{"did":"{{Did}}","active":true}""");

    /// <summary>Explains <paramref name="uri"/>, stored as a not_found post, and returns the explanation and the row.</summary>
    private async Task<(NotFoundExplanation Explanation, IDictionary<string, object?> Row)> ExplainAsync(
        string uri = Uri, IDictionary<string, string?>? settings = null)
    {
        var database = Path.Combine(_directory, "posts.db");
        var configured = new Dictionary<string, string?>
        {
            ["PostService:Identity:PlcUrl"] = _server.BaseUrl,
            ["PostService:Identity:AttemptTimeoutSeconds"] = "1",
            ["PostService:Identity:MaxRetries"] = "1",
            ["PostService:Identity:RetryBaseDelayMs"] = "1",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            configured[key] = value;
        }
        await using var services = CoreServices.For(database, configured);
        await services.GetRequiredService<Migrator>().MigrateAsync(CancellationToken.None);
        await using (var connection = new SqliteConnection($"Data Source={database}"))
        {
            await connection.ExecuteAsync("INSERT INTO posts (post_uri, hydration_status, hydration_error) VALUES (@uri, 'not_found', 'not returned') ON CONFLICT DO NOTHING", new { uri });
        }
        var explanations = await services.GetRequiredService<NotFoundExplainer>().ExplainAsync([uri], CancellationToken.None);
        await using var reader = new SqliteConnection($"Data Source={database}");
        var row = (IDictionary<string, object?>)await reader.QuerySingleAsync("SELECT * FROM posts WHERE post_uri = @uri", new { uri });
        return (Assert.Single(explanations), row);
    }

    private async Task AssertUnknownAsync(string because, string uri = Uri, IDictionary<string, string?>? settings = null)
    {
        var (explanation, row) = await ExplainAsync(uri, settings);
        Assert.Equal(NotFoundReason.Unknown, explanation.Reason);
        Assert.Contains(because, explanation.Detail);
        Assert.Equal("unknown", row["not_found_reason"]);
        Assert.Equal("not_found", row["hydration_status"]);
        Assert.Contains(because, (string)row["hydration_error"]!);
        Assert.Equal(1L, row["attempts"]);
        Assert.NotNull(row["next_attempt_at"]);
    }

    [Fact]
    public async Task AMalformedDidDocumentIsAnUnknownReasonThatSaysSo()
    {
        _server.Answer("/" + Did, 200, "{\"id\": \"did:plc:abc\", ");
        await AssertUnknownAsync("is not JSON");
    }

    [Fact]
    public async Task ADidDocumentWithoutAPdsIsAnUnknownReason()
    {
        _server.Answer("/" + Did, 200, $$"""{"id":"{{Did}}","service":[{"id":"#atproto_pds","type":"AtprotoPersonalDataServer","serviceEndpoint":"ftp://pds"}]}""");
        await AssertUnknownAsync("has no #atproto_pds service");
    }

    [Fact]
    public async Task ADidDocumentForAnotherDidIsAnUnknownReason()
    {
        _server.Answer("/" + Did, 200, Document("did:plc:someoneelse"));
        await AssertUnknownAsync("names another DID");
    }

    [Fact]
    public async Task ADidTheDirectoryDoesNotKnowIsAnUnknownReason()
    {
        await AssertUnknownAsync("has no DID document");
    }

    [Fact]
    public async Task AnUnknownDidMethodIsAnUnknownReasonWithoutAnyCall()
    {
        await AssertUnknownAsync("DID method", "at://did:example:alice/app.bsky.feed.post/3k2la3b4c5d6e");
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task ADirectoryThatDoesNotAnswerInTimeIsAnUnknownReason()
    {
        _server.Answer("/" + Did, 200, "{}", TimeSpan.FromSeconds(30));
        await AssertUnknownAsync("timed out");
    }

    [Theory]
    [InlineData(200, """{"active":false,"status":"takendown"}""", "account_takendown")]
    [InlineData(200, """{"active":false,"status":"suspended"}""", "account_suspended")]
    [InlineData(200, """{"active":false,"status":"deleted"}""", "account_deleted")]
    [InlineData(400, """{"error":"RepoNotFound","message":"Could not find repo"}""", "account_deleted")]
    public async Task AnAccountThePdsReportsAsNotActiveGivesItsStatusAsTheReason(int status, string body, string reason)
    {
        WithDocument().Answer("/xrpc/com.atproto.sync.getRepoStatus", status, body);
        var (explanation, row) = await ExplainAsync();
        Assert.Equal(reason, explanation.Reason);
        Assert.Equal(reason, row["not_found_reason"]);
        Assert.Equal(0L, row["attempts"]);
        Assert.Null(row["next_attempt_at"]);
        Assert.DoesNotContain("/xrpc/com.atproto.repo.getRecord", string.Join(" ", _server.Requests));
    }

    [Fact]
    public async Task AnAccountNotActiveWithAStatusNobodyKnowsIsAnUnknownReason()
    {
        WithDocument().Answer("/xrpc/com.atproto.sync.getRepoStatus", 200, """{"active":false,"status":"desynchronized"}""");
        await AssertUnknownAsync("desynchronized");
    }

    [Fact]
    public async Task APdsThatFailsGetRecordIsAnUnknownReasonAfterItsRetries()
    {
        WithActiveAccount().Answer("/xrpc/com.atproto.repo.getRecord", 502, "Bad Gateway");
        await AssertUnknownAsync("HTTP 502");
        Assert.Equal(2, _server.Requests.Count(request => request.StartsWith("/xrpc/com.atproto.repo.getRecord", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task APdsWhoseBudgetIsSpentIsNotCalledAndTheReasonIsUnknownUntilLater()
    {
        WithActiveAccount().Answer("/xrpc/com.atproto.repo.getRecord", 200, Record);
        await AssertUnknownAsync("call budget for the host exhausted", settings: new Dictionary<string, string?>
        {
            ["PostService:Identity:PdsBudgetCalls"] = "1",
            ["PostService:Identity:MaxBudgetWaitSeconds"] = "0",
        });
        Assert.DoesNotContain(_server.Requests, request => request.StartsWith("/xrpc/com.atproto.repo.getRecord", StringComparison.Ordinal));
    }

    [Fact]
    public async Task APdsThatSaysItsLimitIsReachedIsNotCalledAgainUntilItsReset()
    {
        WithActiveAccount().Answer("/xrpc/com.atproto.repo.getRecord", 200, Record)
            .WithHeaders("/xrpc/com.atproto.sync.getRepoStatus", ("RateLimit-Limit", "3000"), ("RateLimit-Remaining", "0"), ("RateLimit-Reset", "120"));
        await AssertUnknownAsync("call budget for the host exhausted (retry after 1",
            settings: new Dictionary<string, string?> { ["PostService:Identity:MaxBudgetWaitSeconds"] = "0" });
        Assert.DoesNotContain(_server.Requests, request => request.StartsWith("/xrpc/com.atproto.repo.getRecord", StringComparison.Ordinal));
    }

    [Fact]
    public async Task APdsThatDidNotAnswerIsNotAskedAboutItsOtherPostsForAWhile()
    {
        WithDocument().Answer("/xrpc/com.atproto.sync.getRepoStatus", 200, "{}", TimeSpan.FromSeconds(30));
        await using var services = CoreServices.For(Path.Combine(_directory, "posts.db"), new Dictionary<string, string?>
        {
            ["PostService:Identity:PlcUrl"] = _server.BaseUrl,
            ["PostService:Identity:AttemptTimeoutSeconds"] = "1",
            ["PostService:Identity:MaxRetries"] = "0",
            ["PostService:Identity:ExplainParallelism"] = "1",
        });
        await services.GetRequiredService<Migrator>().MigrateAsync(CancellationToken.None);

        var explanations = await services.GetRequiredService<NotFoundExplainer>().ExplainAsync(
            [Uri, Uri.Replace("3k2la3b4c5d6e", "3k2la3b4c5d6f", StringComparison.Ordinal)], CancellationToken.None);

        Assert.All(explanations, explanation => Assert.Equal(NotFoundReason.Unknown, explanation.Reason));
        Assert.Contains("timed out", explanations[0].Detail);
        Assert.Contains("did not answer moments ago", explanations[1].Detail);
        Assert.Single(_server.Requests, request => request.StartsWith("/xrpc/com.atproto.sync.getRepoStatus", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AGetRecordAnswerThatIsNoPostIsAnUnknownReason()
    {
        WithActiveAccount().Answer("/xrpc/com.atproto.repo.getRecord", 200, "[1, 2, 3]");
        await AssertUnknownAsync("not a post record");
    }

    [Fact]
    public async Task AnUnreachablePdsIsAnUnknownReason()
    {
        _server.Answer("/" + Did, 200, Document(Did, "http://127.0.0.1:9"));
        await AssertUnknownAsync("getRepoStatus");
    }

    [Fact]
    public async Task ADidWebAccountIsResolvedFromItsHostAndItsHiddenPostKeepsTheRecord()
    {
        var host = new System.Uri(_server.BaseUrl).Authority;
        var did = "did:web:" + host.Replace(":", "%3A", StringComparison.Ordinal);
        var uri = $"at://{did}/app.bsky.feed.post/3k2la3b4c5d6e";
        _server.Answer("/.well-known/did.json", 200, Document(did))
            .Answer("/xrpc/com.atproto.sync.getRepoStatus", 200, $$"""{"did":"{{did}}","active":true}""")
            .Answer("/xrpc/com.atproto.repo.getRecord", 200, Record.Replace("URI", uri, StringComparison.Ordinal));

        var (explanation, row) = await ExplainAsync(uri);

        Assert.Equal(NotFoundReason.Hidden, explanation.Reason);
        Assert.Equal("hidden", row["not_found_reason"]);
        Assert.Equal("pds", row["metadata_source"]);
        Assert.Equal("still here", row["text"]);
        Assert.Equal("2025-01-02T03:04:05.000Z", row["created_at"]);
        Assert.Equal("[\"en\"]", row["langs"]);
        Assert.Equal(did, row["author_did"]);
        Assert.Equal("someone.test", row["author_handle"]);
    }
}
