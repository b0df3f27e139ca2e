using Dapper;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Identity;

/// <summary>A post whose PDS could not say why it is missing is asked about again, with backoff, until it can.</summary>
public sealed class UnknownReasonRetryTests : IAsyncLifetime
{
    private const string Did = "did:plc:retryretryretryretryretr";
    private static readonly string Uri = RetrievalBuilder.PostUri("3k2la3b4c5d6e", Did);
    private FakeAppView _appView = null!;
    private ScriptedServer _identity = null!;

    public async Task InitializeAsync()
    {
        _appView = await FakeAppView.StartAsync();
        _identity = await ScriptedServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _identity.DisposeAsync();
        await _appView.DisposeAsync();
    }

    private static (string? Status, string? Reason, long Attempts) Stored(PostServiceFactory service)
    {
        using var db = service.OpenDatabase();
        return db.QuerySingle<(string?, string?, long)>("SELECT hydration_status, not_found_reason, attempts FROM posts WHERE post_uri = @Uri", new { Uri });
    }

    [Fact]
    public async Task AnUnknownReasonIsAskedAgainUntilThePdsAnswers()
    {
        _identity.Answer("/" + Did, 503, "down for maintenance");
        using var service = HydratingService.Start(_appView, new Dictionary<string, string?>
        {
            ["PostService:Identity:ExplainNotFound"] = "true",
            ["PostService:Identity:PlcUrl"] = _identity.BaseUrl,
            ["PostService:Identity:MaxRetries"] = "0",
            ["PostService:Identity:FailureCacheSeconds"] = "0",
            ["PostService:Identity:UnknownRetrySeconds"] = "1",
        });
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPost(Uri, 0)))).EnsureSuccessStatusCode();
        await Eventually.TrueAsync(() => Stored(service).Reason == "unknown", "the PDS cannot be asked at first", TimeSpan.FromSeconds(30));
        Assert.Equal("not_found", Stored(service).Status);

        _identity.Answer("/" + Did, 200,
                $$"""{"id":"{{Did}}","service":[{"id":"#atproto_pds","type":"AtprotoPersonalDataServer","serviceEndpoint":"{{_identity.BaseUrl}}"}]}""")
            .Answer("/xrpc/com.atproto.sync.getRepoStatus", 200, $$"""{"did":"{{Did}}","active":true}""")
            .Answer("/xrpc/com.atproto.repo.getRecord", 400, """{"error":"RecordNotFound","message":"Could not locate record"}""");

        await Eventually.TrueAsync(() => Stored(service).Reason == "deleted", "asked again, the PDS says it was deleted", TimeSpan.FromSeconds(30));
        Assert.Equal(("not_found", "deleted", 0L), Stored(service));
    }
}
