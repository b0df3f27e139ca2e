using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Dapper;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Hydration;

/// <summary>
/// The running service against an AppView that misbehaves for a while, then recovers. Whatever the fault: the service
/// keeps serving, no post is marked <c>not_found</c> because of it, every post the AppView has ends up <c>ok</c>, and
/// the calls never exceed the budget in any window.
/// </summary>
public sealed class AppViewFaultTests : IAsyncLifetime
{
    private const int BudgetCalls = 10;
    private const string CopyText = "a second copy in the same answer";
    private const string TamperedText = "a version nobody asked for";
    private static readonly TimeSpan BudgetWindow = TimeSpan.FromSeconds(1);

    private readonly List<FakePost> _present = [];
    private readonly List<string> _missing = [];
    private FakeAppView _appView = null!;

    public async Task InitializeAsync()
    {
        _appView = await FakeAppView.StartAsync();
        for (var i = 0; i < 60; i++)
        {
            var uri = RetrievalBuilder.PostUri($"f{i:00}", $"did:plc:author{i % 7}");
            if (i % 20 == 7)
            {
                _missing.Add(uri); // deleted: the AppView leaves it out, so not_found is the right answer
            }
            else
            {
                _present.Add(_appView.AddPost(uri));
            }
        }
    }

    public async Task DisposeAsync() => await _appView.DisposeAsync();

    public static TheoryData<string> Faults => new(FaultNames);

    private static readonly string[] FaultNames =
    [
        "500s", "502 and 503 burst", "429 storm with Retry-After and RateLimit headers", "429 storm with RateLimit headers only",
        "429 storm without headers", "hangs past the attempt timeout", "connection resets", "truncated JSON", "invalid JSON",
        "unknown extra fields", "posts for URIs not asked for", "duplicate posts in one answer", "everything at once",
    ];

    private IEnumerable<FakeResponse> Script(string fault) => fault switch
    {
        "500s" => Repeat(4, () => FakeResponse.Status(500)),
        "502 and 503 burst" => Repeat(8, i => FakeResponse.Status(i % 2 == 0 ? 502 : 503)),
        "429 storm with Retry-After and RateLimit headers" => Repeat(8, () => FakeResponse.RateLimited(1)),
        "429 storm with RateLimit headers only" => Repeat(8, () => FakeResponse.RateLimited(1, withHeaders: true, withRetryAfter: false)),
        "429 storm without headers" => Repeat(8, () => FakeResponse.RateLimited(1, withHeaders: false, withRetryAfter: false)),
        "hangs past the attempt timeout" => Repeat(3, () => FakeResponse.Hang(TimeSpan.FromSeconds(20))),
        "connection resets" => Repeat(5, FakeResponse.ConnectionReset),
        "truncated JSON" => Repeat(5, FakeResponse.Garbage),
        "invalid JSON" => Repeat(5, FakeResponse.InvalidJson),
        "unknown extra fields" => Repeat(2, FakeResponse.WithUnknownFields),
        "posts for URIs not asked for" => Repeat(2, () => FakeResponse.WithUnrequestedPosts(
            Outsider(), _present[^1] with { Text = TamperedText }, _present[0] with { Text = TamperedText })),
        "duplicate posts in one answer" => Repeat(2, () => FakeResponse.WithDuplicatePosts(CopyText)),
        "everything at once" => FaultNames[..^1].SelectMany(Script).Where((_, i) => i % 3 == 0),
        _ => throw new ArgumentOutOfRangeException(nameof(fault), fault, null),
    };

    [Theory]
    [MemberData(nameof(Faults))]
    public async Task AFaultyAppViewNeverCostsAPostOrTheBudgetAndEveryPostHydratesOnceItRecovers(string fault)
    {
        var script = Script(fault).ToList();
        script.ForEach(_appView.Script.Enqueue);
        using var service = HydratingService.Start(_appView, new Dictionary<string, string?>
        {
            ["PostService:Hydration:BudgetCalls"] = BudgetCalls.ToString(),
            ["PostService:Hydration:BudgetWindowSeconds"] = "1",
            ["PostService:AppView:DefaultRetryAfterSeconds"] = "1",
            // A call waiting out a 429 or retrying holds a slot; more slots keep several batches exposed to the fault.
            ["PostService:Hydration:MaxInFlight"] = "3",
        });
        var client = service.CreateClient();
        var uris = _present.Select(post => post.Uri).Concat(_missing).Order(StringComparer.Ordinal).ToList();

        foreach (var chunk in uris.Chunk(20))
        {
            (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(Retrieval(chunk)), client)).EnsureSuccessStatusCode();
        }
        await Eventually.TrueAsync(() =>
        {
            Assert.Equal(HttpStatusCode.OK, client.GetAsync("/readyz").Result.StatusCode);
            return service.Count("SELECT count(*) FROM posts WHERE hydration_status = 'ok'") == _present.Count;
        }, $"every post the AppView has is ok after '{fault}'", TimeSpan.FromSeconds(90));
        await Eventually.TrueAsync(() => service.Count("SELECT count(*) FROM posts WHERE hydration_status <> 'ok'") == _missing.Count
            && service.Count("SELECT count(*) FROM posts WHERE hydration_status = 'not_found'") == _missing.Count,
            "the posts the AppView lacks are not_found");

        // Every call of the fault script was played (3 calls at least carry the 60 URIs).
        Assert.True(_appView.Script.IsEmpty, "the whole fault script was played");
        using var db = service.OpenDatabase();
        Assert.Equal(_missing.Order(StringComparer.Ordinal), db.Query<string>("SELECT post_uri FROM posts WHERE hydration_status = 'not_found' ORDER BY post_uri"));
        Assert.Equal(uris, db.Query<string>("SELECT post_uri FROM posts ORDER BY post_uri"));
        var stored = db.Query<(string Uri, string Text, string Cid)>("SELECT post_uri, text, cid FROM posts WHERE hydration_status = 'ok'")
            .ToDictionary(row => row.Uri);
        Assert.All(_present, post => Assert.Equal((post.Text, post.Cid), (stored[post.Uri].Text, stored[post.Uri].Cid)));
        Assert.InRange(_appView.CallsInAnyWindow(BudgetWindow), 1, BudgetCalls);
        Assert.Empty(_appView.UrisInOverlappingCalls());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/feed-requests")).StatusCode);
    }

    [Fact]
    public async Task ARetryAfterOfAnHourPausesHydrationWithoutHoldingAnythingAndThePostsStayDueForLater()
    {
        _appView.Script.Enqueue(FakeResponse.RateLimited((int)TimeSpan.FromHours(1).TotalSeconds));
        var path = Path.Combine(TempDirectory.Create(), "compliance.db");
        var settings = new Dictionary<string, string?> { ["PostService:Shutdown:GracePeriodSeconds"] = "120" };
        var service = HydratingService.Start(_appView, settings, TestDatabase.ForFile(path));
        var client = service.CreateClient();
        var (first, rest) = (Retrieval(_present.Take(20)), Retrieval(_present.Skip(20)));

        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(first), client)).EnsureSuccessStatusCode();
        string? pausedUntil = null;
        await Eventually.TrueAsync(() => (pausedUntil = client.GetOkJsonAsync("/hydration/stats").Result
            .GetProperty("paused_until").GetString()) is not null, "the 429 pauses hydration");
        // Other work goes on meanwhile: ingestion, reads.
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(rest), client)).EnsureSuccessStatusCode();
        var post = await client.GetOkJsonAsync("/posts/" + Uri.EscapeDataString(_present[^1].Uri));
        await Task.Delay(TimeSpan.FromSeconds(2));
        var stats = await client.GetOkJsonAsync("/hydration/stats");
        var stopping = Stopwatch.StartNew();
        service.Dispose();
        stopping.Stop();

        Assert.InRange(DateTimeOffset.Parse(pausedUntil!, CultureInfo.InvariantCulture),
            DateTimeOffset.UtcNow.AddMinutes(55), DateTimeOffset.UtcNow.AddMinutes(61));
        Assert.Equal(429, Assert.Single(_appView.Calls).Status); // no call after the 429, not even the batch again
        Assert.Equal("pending", post.GetProperty("hydration_status").GetString());
        Assert.Equal(0, stats.GetProperty("in_flight_calls").GetInt32());
        Assert.Equal(JsonValueKind.Null, stats.GetProperty("active_run_id").ValueKind); // the run ended, holding nothing
        // Shutdown does not wait for the pause, nor for the grace period: nothing is in flight.
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(60), $"stopping took {stopping.Elapsed}");
        using (var restarted = HydratingService.Start(_appView, database: TestDatabase.ForFile(path)))
        {
            // A new process does not know the pause; this AppView has recovered, and every post was left due.
            await Eventually.TrueAsync(() => restarted.Count("SELECT count(*) FROM posts WHERE hydration_status = 'ok'") == _present.Count,
                "every post hydrates after the pause");
            Assert.Equal(0, restarted.Count("SELECT count(*) FROM posts WHERE hydration_status <> 'ok'"));
        }
        TempDirectory.Delete(Path.GetDirectoryName(path)!);
    }

    private static RetrievalBuilder Retrieval(IEnumerable<FakePost> posts) => Retrieval(posts.Select(post => post.Uri));

    private static RetrievalBuilder Retrieval(IEnumerable<string> uris)
    {
        var retrieval = new RetrievalBuilder();
        foreach (var uri in uris)
        {
            retrieval.WithPost(uri);
        }
        return retrieval;
    }

    private FakePost Outsider() => _appView.AddPost(RetrievalBuilder.PostUri("outsider", "did:plc:stranger"));

    private static IEnumerable<FakeResponse> Repeat(int count, Func<FakeResponse> response) => Repeat(count, _ => response());

    private static IEnumerable<FakeResponse> Repeat(int count, Func<int, FakeResponse> response) => Enumerable.Range(0, count).Select(response);
}
