using System.Net;
using System.Text.Json;
using System.Threading.Channels;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using PostService.Hydration;
using PostService.Storage;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Hydration;

public abstract class HydrationPipelineTests(DatabaseProvider provider) : IAsyncLifetime
{
    public sealed class OnSqlite() : HydrationPipelineTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgres() : HydrationPipelineTests(DatabaseProvider.Postgres), IRunsOnPostgres;

    private FakeAppView _appView = null!;

    public async Task InitializeAsync() => _appView = await FakeAppView.StartAsync();

    public async Task DisposeAsync() => await _appView.DisposeAsync();

    private static string Uri(string rkey, string did = "did:plc:author1") => RetrievalBuilder.PostUri(rkey, did);

    private static string Status(PostServiceFactory service, string uri)
    {
        using var db = service.OpenDatabase();
        return db.ExecuteScalar<string>("SELECT hydration_status FROM posts WHERE post_uri = @uri", new { uri }) ?? "(none)";
    }

    private static Task AllSettledAsync(PostServiceFactory service, int expected) =>
        Eventually.TrueAsync(
            () => service.Count("SELECT count(*) FROM posts WHERE hydration_status IN ('ok', 'not_found', 'error')") >= expected,
            $"{expected} posts are hydrated");

    [DatabaseFact]
    public async Task IngestedUrisAreHydratedWithEveryStoredField()
    {
        var reply = Uri("reply");
        var served = _appView.AddPost(reply, post => post.WithReply(Uri("parent"), Uri("root")).WithImages(2) with
        {
            LikeCount = 3, RepostCount = 4, ReplyCount = 5, QuoteCount = 6, Langs = ["en", "de"], Text = "hello world",
        });
        using var service = HydratingService.Start(_appView, provider: provider);

        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPost(reply, 0)))).EnsureSuccessStatusCode();
        await AllSettledAsync(service, 1);

        var post = await service.CreateClient().GetOkJsonAsync("/posts/" + System.Uri.EscapeDataString(reply));
        Assert.Equal("ok", post.GetProperty("hydration_status").GetString());
        Assert.Equal(served.Cid, post.GetProperty("cid").GetString());
        Assert.Equal(served.AuthorDid, post.GetProperty("author_did").GetString());
        Assert.Equal(served.AuthorHandle, post.GetProperty("author_handle").GetString());
        Assert.Equal(served.IndexedAt, post.GetProperty("indexed_at").GetString());
        Assert.Equal(served.CreatedAt, post.GetProperty("created_at").GetString());
        Assert.Equal("hello world", post.GetProperty("text").GetString());
        Assert.Equal(["en", "de"], post.GetProperty("langs").EnumerateArray().Select(lang => lang.GetString()));
        Assert.Equal(Uri("parent"), post.GetProperty("reply_parent_uri").GetString());
        Assert.Equal(Uri("root"), post.GetProperty("reply_root_uri").GetString());
        Assert.Equal("app.bsky.embed.images#view", post.GetProperty("embed_type").GetString());
        Assert.Equal(3, post.GetProperty("like_count").GetInt64());
        Assert.Equal(4, post.GetProperty("repost_count").GetInt64());
        Assert.Equal(5, post.GetProperty("reply_count").GetInt64());
        Assert.Equal(6, post.GetProperty("quote_count").GetInt64());
        Assert.Equal("appview", post.GetProperty("metadata_source").GetString());
        Assert.Equal(JsonValueKind.Null, post.GetProperty("hydration_error").ValueKind);
        Assert.False(string.IsNullOrEmpty(post.GetProperty("last_hydrated_at").GetString()));
    }

    [DatabaseFact]
    public async Task TheSweepHydratesPostsNoRequestHintedAcrossManyPages()
    {
        // Stored out of URI order and by hand, as an operator's insert or an older tool would: no hint, no number given
        // by ingestion; only the sweep, 25 posts a page (the least allowed), can find them.
        var uris = Enumerable.Range(0, 60).Select(i => Uri($"swept{59 - i:D2}")).ToList();
        uris.ForEach(uri => _appView.AddPost(uri));
        using var service = HydratingService.Start(_appView, new Dictionary<string, string?> { ["PostService:Hydration:SweepPageSize"] = "25" }, provider: provider);
        using (var db = service.OpenDatabase())
        {
            foreach (var uri in uris)
            {
                db.Execute("INSERT INTO posts (post_uri, hydration_status) VALUES (@uri, 'pending')", new { uri });
            }
        }

        await AllSettledAsync(service, uris.Count);

        Assert.All(uris, uri => Assert.Equal("ok", Status(service, uri)));
    }

    [DatabaseFact]
    public async Task AUriTheAppViewOmitsBecomesNotFoundAndTheRestAreOk()
    {
        _appView.AddPost(Uri("alive"));
        using var service = HydratingService.Start(_appView, provider: provider);

        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPost(Uri("alive"), 0).WithPost(Uri("deleted"), 1)))).EnsureSuccessStatusCode();
        await AllSettledAsync(service, 2);

        Assert.Equal("ok", Status(service, Uri("alive")));
        Assert.Equal("not_found", Status(service, Uri("deleted")));
    }

    [DatabaseFact]
    public async Task OneUriTheAppViewRejectsIsIsolatedAndTheOthersHydrate()
    {
        var uris = Enumerable.Range(0, 25).Select(i => Uri($"b{i:00}")).ToList();
        uris.ForEach(uri => _appView.AddPost(uri));
        _appView.FailWhenContains(uris[13], 400);
        var retrieval = new RetrievalBuilder();
        uris.ForEach(uri => retrieval.WithPost(uri));
        using var service = HydratingService.Start(_appView, new Dictionary<string, string?> { ["PostService:Hydration:LingerMs"] = "500" }, provider: provider);

        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(retrieval))).EnsureSuccessStatusCode();
        await AllSettledAsync(service, 25);

        Assert.Equal(24, service.Count("SELECT count(*) FROM posts WHERE hydration_status = 'ok'"));
        using var db = service.OpenDatabase();
        var failed = db.QuerySingle<(string Uri, string Error)>("SELECT post_uri, hydration_error FROM posts WHERE hydration_status = 'error'");
        Assert.Equal(uris[13], failed.Uri);
        Assert.Contains("AppView rejected the URI", failed.Error);
        // Halving 25 down to 1 takes about 2*log2(25) calls, not 25.
        Assert.InRange(_appView.Calls.Count, 2, 12);
    }

    [DatabaseFact]
    public async Task RateLimitingPausesHydrationAndNeverFailsAPost()
    {
        _appView.AddPost(Uri("limited"));
        _appView.Script.Enqueue(FakeResponse.RateLimited(1));
        using var service = HydratingService.Start(_appView, provider: provider);

        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPost(Uri("limited"))))).EnsureSuccessStatusCode();
        await AllSettledAsync(service, 1);

        Assert.Equal("ok", Status(service, Uri("limited")));
        var calls = _appView.Calls;
        Assert.Equal(2, calls.Count);
        Assert.True(calls[1].StartedAt - calls[0].StartedAt >= TimeSpan.FromSeconds(0.95), "the retry waited for Retry-After");
        var stats = await service.CreateClient().GetOkJsonAsync("/hydration/stats");
        Assert.Equal(1, stats.GetProperty("rate_limited_seen").GetInt64());
    }

    [DatabaseFact]
    public async Task AFailingAppViewMarksPostsErrorThenTheyHydrateOnALaterAttempt()
    {
        _appView.AddPost(Uri("flaky"));
        for (var i = 0; i < 3; i++)
        {
            _appView.Script.Enqueue(FakeResponse.Status(503));
        }
        using var service = HydratingService.Start(_appView, provider: provider);

        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPost(Uri("flaky"))))).EnsureSuccessStatusCode();
        await Eventually.TrueAsync(() => Status(service, Uri("flaky")) == "error", "the post is marked error");
        using (var db = service.OpenDatabase())
        {
            var row = db.QuerySingle<(long Attempts, string NextAttemptAt, string Error)>(
                "SELECT attempts, next_attempt_at, hydration_error FROM posts WHERE post_uri = @uri", new { uri = Uri("flaky") });
            // No call had been answered: an outage, which uses up no attempt.
            Assert.Equal(0, row.Attempts);
            Assert.False(string.IsNullOrEmpty(row.NextAttemptAt));
            Assert.Contains("503", row.Error);
            Assert.Contains("AppView unavailable", row.Error);
        }

        await Eventually.TrueAsync(() => Status(service, Uri("flaky")) == "ok", "the retry succeeds", TimeSpan.FromSeconds(15));
        Assert.Equal(4, _appView.Calls.Count);
    }

    /// <summary>A service whose posts have two attempts of one call each, having ingested <paramref name="uris"/> in one retrieval.</summary>
    private async Task<PostServiceFactory> StartWithTwoAttemptsAsync(params string[] uris)
    {
        var service = HydratingService.Start(_appView, new Dictionary<string, string?>
        {
            ["PostService:Hydration:MaxAttempts"] = "2",
            ["PostService:AppView:MaxRetries"] = "0",
        }, provider: provider);
        var retrieval = uris.Aggregate(new RetrievalBuilder(), (builder, uri) => builder.WithPost(uri));
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(retrieval))).EnsureSuccessStatusCode();
        return service;
    }

    [DatabaseFact]
    public async Task AnOutageLongerThanEveryAttemptStillEndsWithThePostsOk()
    {
        _appView.AddPost(Uri("outlasting1"));
        _appView.AddPost(Uri("outlasting2"));
        for (var i = 0; i < 12; i++)
        {
            _appView.Script.Enqueue(FakeResponse.Status(503));
        }
        using var service = await StartWithTwoAttemptsAsync(Uri("outlasting1"), Uri("outlasting2"));

        await Eventually.TrueAsync(() => service.Count("SELECT count(*) FROM posts WHERE hydration_status = 'ok'") == 2,
            "both posts hydrate once the AppView is back, though the outage outlasted their attempts", TimeSpan.FromSeconds(60));
        Assert.True(_appView.Calls.Count(call => call.Status == 503) > 2, "the outage lasted longer than the attempts allow");
    }

    [DatabaseFact]
    public async Task APostThatFailsWhileOthersHydrateUsesUpItsAttempts()
    {
        _appView.AddPost(Uri("healthy"));
        _appView.AddPost(Uri("poison"));
        _appView.FailWhenContains(Uri("poison"), 500);
        using var service = await StartWithTwoAttemptsAsync(Uri("healthy"), Uri("poison"));

        await Eventually.TrueAsync(() => service.Count("SELECT count(*) FROM posts WHERE hydration_status = 'error' AND attempts = 2 AND next_attempt_at IS NULL") == 1,
            "the failing post waits for a forced run after its attempts", TimeSpan.FromSeconds(60));
        Assert.Equal("ok", Status(service, Uri("healthy")));
    }

    [DatabaseFact]
    public async Task AHandleBasedUriIsNeverSentAndBecomesError()
    {
        using var service = HydratingService.Start(_appView, provider: provider);

        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPost("at://alice.example.com/app.bsky.feed.post/3k")))).EnsureSuccessStatusCode();
        await AllSettledAsync(service, 1);

        Assert.Empty(_appView.Calls);
        var post = await service.CreateClient().GetOkJsonAsync("/posts/at://alice.example.com/app.bsky.feed.post/3k");
        Assert.Equal("error", post.GetProperty("hydration_status").GetString());
        Assert.Contains("handle-based", post.GetProperty("hydration_error").GetString());
    }

    [DatabaseFact]
    public async Task AForcedRunRefetchesNotFoundPostsAndReportsItsCounts()
    {
        using var service = HydratingService.Start(_appView, provider: provider);
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPost(Uri("late"))))).EnsureSuccessStatusCode();
        await Eventually.TrueAsync(() => Status(service, Uri("late")) == "not_found", "the post is not found at first");
        _appView.AddPost(Uri("late"));
        var client = service.CreateClient();

        var unforced = await (await client.PostAsync("/hydrate?wait=true", null)).AssertOkJsonAsync();
        var forced = await (await client.PostAsync("/hydrate?force=true&wait=true", null)).AssertOkJsonAsync();

        Assert.Equal("ok", Status(service, Uri("late")));
        Assert.Equal("manual", forced.GetProperty("trigger").GetString());
        Assert.True(forced.GetProperty("force").GetBoolean());
        Assert.Equal("completed", forced.GetProperty("status").GetString());
        Assert.Equal(1, forced.GetProperty("attempted").GetInt64());
        Assert.Equal(1, forced.GetProperty("hydrated").GetInt64());
        Assert.Equal(1, forced.GetProperty("api_calls").GetInt64());
        var runId = forced.GetProperty("run_id").GetInt64();
        var stored = await client.GetOkJsonAsync($"/hydration/runs/{runId}");
        Assert.Equal(1, stored.GetProperty("hydrated").GetInt64());
        Assert.Equal(0, unforced.GetProperty("attempted").GetInt64()); // not_found is cached: nothing to do
    }

    [DatabaseFact]
    public async Task StartingARunAnswers202WithItsLocation()
    {
        using var service = HydratingService.Start(_appView, provider: provider);
        var client = service.CreateClient();

        var response = await client.PostAsync("/hydrate", null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var run = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal($"/hydration/runs/{run.GetProperty("run_id").GetInt64()}", response.Headers.Location?.OriginalString);
        await Eventually.TrueAsync(() => client.GetOkJsonAsync(response.Headers.Location!.OriginalString).Result
            .GetProperty("status").GetString() == "completed", "the run completes");
    }

    [DatabaseFact]
    public async Task HydratedPostsAreSkippedAsCachedUnlessForced()
    {
        _appView.AddPost(Uri("cached"));
        using var service = HydratingService.Start(_appView, provider: provider);
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPost(Uri("cached"))))).EnsureSuccessStatusCode();
        await AllSettledAsync(service, 1);
        // The call that settled it goes on after its rows are written (snapshots, refresh booking): a URI in flight is not looked at.
        await Eventually.TrueAsync(() => service.Services.GetRequiredService<CallsInFlight>().Count == 0, "the call that settled it has ended");
        var callsBefore = _appView.Calls.Count;
        var engine = service.Services.GetRequiredService<HydrationEngine>();
        var hints = Channel.CreateUnbounded<string>();
        hints.Writer.TryWrite(Uri("cached"));

        var record = await engine.RunAsync(new HydrationRun(new RunSpec(RunTrigger.Cli)), hints.Reader, CancellationToken.None, CancellationToken.None);

        Assert.Equal(1, record.SkippedCached);
        Assert.Equal(0, record.Attempted);
        Assert.Equal(callsBefore, _appView.Calls.Count);
    }

    [DatabaseFact]
    public async Task ScheduledRefreshesWaitForNewUrisThenRecordTheGrowth()
    {
        var old = Enumerable.Range(0, 3).Select(i => Uri($"old{i}")).ToList();
        var fresh = Enumerable.Range(0, 60).Select(i => Uri($"new{i:D2}")).ToList();
        var oldPosts = old.Select(uri => _appView.AddPost(uri, post => post with { LikeCount = 1 })).ToList();
        fresh.ForEach(uri => _appView.AddPost(uri));
        // The worker is off: each run below is one run of the engine, as the CLI's hydrate makes; one call at a time shows their order.
        using var service = HydratingService.Start(_appView, new Dictionary<string, string?>
        {
            ["PostService:Hydration:Enabled"] = "false",
            ["PostService:Hydration:MaxInFlight"] = "1",
            ["PostService:Hydration:RefreshAfter"] = "1h,6h",
        }, provider: provider);
        var client = service.CreateClient();
        var engine = service.Services.GetRequiredService<HydrationEngine>();
        Task<HydrationRunRecord> RunAsync() => engine.RunAsync(new HydrationRun(new RunSpec(RunTrigger.Cli)), null, CancellationToken.None, CancellationToken.None);
        // First served an hour ago, less a few seconds: their first refresh comes a few seconds after their first fetch.
        var firstServed = DateTimeOffset.UtcNow.AddHours(-1).AddSeconds(4);
        var oldRetrieval = new RetrievalBuilder().At(DbTime.ToText(firstServed));
        old.ForEach(uri => oldRetrieval.WithPost(uri));
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(oldRetrieval))).EnsureSuccessStatusCode();
        await RunAsync();
        var scheduled = await client.GetOkJsonAsync("/hydration/stats");
        Assert.Equal(["1h", "6h"], scheduled.GetProperty("refresh_after").EnumerateArray().Select(age => age.GetString()));
        Assert.Equal(3, scheduled.GetProperty("refreshes_scheduled").GetInt64());

        // New URIs are served while the refreshes come due, and the old posts have gained likes.
        var newRetrieval = new RetrievalBuilder().WithId(2);
        fresh.ForEach(uri => newRetrieval.WithPost(uri));
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(newRetrieval))).EnsureSuccessStatusCode();
        oldPosts.ForEach(post => _appView.AddPost(post with { LikeCount = 7 }));
        await Eventually.TrueAsync(
            async () => (await client.GetOkJsonAsync("/hydration/stats")).GetProperty("refresh_backlog").GetInt64() == 3, "the refreshes come due",
            TimeSpan.FromSeconds(30));
        var callsBefore = _appView.Calls.Count;
        await RunAsync();

        var calls = _appView.Calls.Skip(callsBefore).OrderBy(call => call.StartedAt).ToList();
        Assert.Equal([25, 25, 10, 3], calls.Select(call => call.Uris.Count));
        Assert.All(calls.Take(3), call => Assert.All(call.Uris, uri => Assert.Contains(uri, fresh)));
        Assert.Equal(old, calls[^1].Uris.Order(StringComparer.Ordinal));
        var series = (await client.GetOkJsonAsync($"/posts/{System.Uri.EscapeDataString(old[0])}/metrics")).GetProperty("snapshots").EnumerateArray();
        Assert.Equal([1, 7], series.Select(snapshot => snapshot.GetProperty("like_count").GetInt64()));
        var after = await client.GetOkJsonAsync("/hydration/stats");
        Assert.Equal(0, after.GetProperty("refresh_backlog").GetInt64());
        Assert.Equal(3, after.GetProperty("refreshes_scheduled").GetInt64());
        using var db = service.OpenDatabase();
        Assert.Equal(DbTime.ToText(firstServed.AddHours(6)), db.ExecuteScalar<string>("SELECT ts_text(next_refresh_at) FROM posts WHERE post_uri = @uri", new { uri = old[0] }));
    }

    [DatabaseFact]
    public async Task AnIdentityDirectorySlowToExplainAMissingPostDoesNotHoldUpTheNextPosts()
    {
        const string did = "did:plc:abcdefghijklmnopqrstuvwx";
        var missing = Uri("gone", did);
        _appView.AddPost(Uri("here"));
        _appView.AddPost(Uri("later"));
        // The directory answers the missing post's author only after 15 s (then with no PDS to ask: reason unknown).
        await using var directory = await ScriptedServer.StartAsync();
        directory.Answer("/" + did, 200, $$"""{"id":"{{did}}","service":[]}""", TimeSpan.FromSeconds(15));
        using var service = HydratingService.Start(_appView, new Dictionary<string, string?>
        {
            ["PostService:Hydration:MaxInFlight"] = "1",
            ["PostService:Identity:ExplainNotFound"] = "true",
            ["PostService:Identity:PlcUrl"] = directory.BaseUrl,
            ["PostService:Identity:AttemptTimeoutSeconds"] = "30",
        }, provider: provider);
        string? Reason()
        {
            using var db = service.OpenDatabase();
            return db.ExecuteScalar<string?>("SELECT not_found_reason FROM posts WHERE post_uri = @missing", new { missing });
        }

        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(RetrievalBuilder.Serving([Uri("here"), missing])))).EnsureSuccessStatusCode();
        await Eventually.TrueAsync(() => Status(service, missing) == "not_found" && directory.Requests.Any(), "the missing post is being explained");
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithId(2).WithPost(Uri("later"))))).EnsureSuccessStatusCode();

        // With one call slot, the next post is hydrated while the directory has not answered yet.
        await Eventually.TrueAsync(() => Status(service, Uri("later")) == "ok", "the next post is hydrated");
        Assert.Null(Reason());
        await Eventually.TrueAsync(() => Reason() == "unknown", "the missing post is explained once the directory answers", TimeSpan.FromSeconds(60));
    }

    [DatabaseFact]
    public async Task PendingPostsLeftByAStoppedServiceAreHydratedAfterRestart()
    {
        _appView.AddPost(Uri("survivor"));
        using var database = TestDatabase.Create(provider);
        using (var stopped = new PostServiceFactory(database: database))
        {
            (await stopped.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPost(Uri("survivor"))))).EnsureSuccessStatusCode();
            Assert.Equal("pending", Status(stopped, Uri("survivor")));
        }

        using var restarted = HydratingService.Start(_appView, database: database);

        await Eventually.TrueAsync(() => Status(restarted, Uri("survivor")) == "ok", "the startup sweep hydrates the pending post");
        var runs = await restarted.CreateClient().GetOkJsonAsync("/hydration/runs");
        Assert.Equal("startup", runs[0].GetProperty("trigger").GetString());
    }

    [DatabaseFact]
    public async Task ABacklogIsHydratedWithinTheBudgetAndNoUriIsInTwoCallsAtOnce()
    {
        const int backlog = 10_000;
        const int budgetCalls = 100;
        var window = TimeSpan.FromSeconds(1);
        _appView.Latency = TimeSpan.FromMilliseconds(15);
        var batch = Enumerable.Range(0, backlog / 1_000).Select(r =>
        {
            var retrieval = new RetrievalBuilder();
            for (var i = 0; i < 1_000; i++)
            {
                var uri = Uri($"k{r}x{i}", $"did:plc:author{i % 50}");
                retrieval.WithPost(uri, i);
                if (i % 10 != 0)
                {
                    _appView.AddPost(uri);
                }
            }
            return retrieval;
        }).ToArray();
        using var service = HydratingService.Start(_appView, new Dictionary<string, string?>
        {
            ["PostService:Hydration:BudgetCalls"] = budgetCalls.ToString(),
            ["PostService:Hydration:BudgetWindowSeconds"] = "1",
            ["PostService:Ingestion:MaxPostsPerRetrieval"] = "1000",
        }, provider: provider);

        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(batch))).EnsureSuccessStatusCode();
        await Eventually.TrueAsync(() => service.Count("SELECT count(*) FROM posts WHERE hydration_status = 'pending'") == 0,
            "the backlog is drained", TimeSpan.FromSeconds(60));

        Assert.Equal(backlog * 9 / 10, service.Count("SELECT count(*) FROM posts WHERE hydration_status = 'ok'"));
        Assert.Equal(backlog / 10, service.Count("SELECT count(*) FROM posts WHERE hydration_status = 'not_found'"));
        Assert.InRange(_appView.CallsInAnyWindow(window), 1, budgetCalls);
        Assert.Empty(_appView.UrisInOverlappingCalls());
        Assert.All(_appView.Calls, call => Assert.InRange(call.Uris.Count, 1, 25));
        Assert.Equal(backlog, _appView.Calls.Sum(call => call.Uris.Count));
    }

    [DatabaseFact]
    public async Task CoverageReportsTotalsPercentageAndTheFailureTrend()
    {
        _appView.AddPost(Uri("c1"));
        _appView.AddPost(Uri("c2"));
        using var service = HydratingService.Start(_appView, provider: provider);
        var retrieval = new RetrievalBuilder().WithPost(Uri("c1")).WithPost(Uri("c2")).WithPost(Uri("gone")).WithPost("not-a-uri");
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(retrieval))).EnsureSuccessStatusCode();
        await AllSettledAsync(service, 3);

        var coverage = await service.CreateClient().GetOkJsonAsync("/hydration/coverage");

        Assert.Equal(4, coverage.GetProperty("total_posts").GetInt64());
        var byStatus = coverage.GetProperty("by_status");
        Assert.Equal(2, byStatus.GetProperty("ok").GetInt64());
        Assert.Equal(1, byStatus.GetProperty("not_found").GetInt64());
        Assert.Equal(1, byStatus.GetProperty("invalid").GetInt64());
        Assert.Equal(0, byStatus.GetProperty("pending").GetInt64());
        Assert.Equal(66.67, coverage.GetProperty("coverage_pct").GetDouble());
        var today = coverage.GetProperty("failure_trend").EnumerateArray().Single();
        Assert.Equal(DateTime.UtcNow.ToString("yyyy-MM-dd"), today.GetProperty("day").GetString());
        Assert.Equal(1, today.GetProperty("not_found").GetInt64());
        Assert.Equal(0, today.GetProperty("error").GetInt64());
    }

    [DatabaseFact]
    public async Task AskingForARunWhileOneIsActiveReturnsTheActiveRun()
    {
        using var service = HydratingService.Start(_appView, provider: provider);
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPosts(60)))).EnsureSuccessStatusCode();
        await AllSettledAsync(service, 60);
        _appView.Latency = TimeSpan.FromMilliseconds(300);
        var client = service.CreateClient();

        var first = JsonDocument.Parse(await (await client.PostAsync("/hydrate?force=true", null)).Content.ReadAsStringAsync()).RootElement;
        var second = JsonDocument.Parse(await (await client.PostAsync("/hydrate?force=true", null)).Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(first.GetProperty("run_id").GetInt64(), second.GetProperty("run_id").GetInt64());
    }

    [DatabaseFact]
    public async Task ARefreshRunUpdatesHydratedPostsOlderThanAskedOnly()
    {
        _appView.AddPost(Uri("counted"), post => post with { LikeCount = 1, AuthorHandle = "old.test" });
        using var service = HydratingService.Start(_appView, provider: provider);
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPost(Uri("counted"))))).EnsureSuccessStatusCode();
        await AllSettledAsync(service, 1);
        _appView.AddPost(Uri("counted"), post => post with { LikeCount = 5, AuthorHandle = "new.test" });
        var client = service.CreateClient();

        var notOldEnough = await (await client.PostAsync("/hydrate?refresh=true&older_than=7d&wait=true", null)).AssertOkJsonAsync();
        var before = await client.GetOkJsonAsync("/posts/" + Uri("counted"));
        var refreshed = await (await client.PostAsync("/hydrate?refresh=true&wait=true", null)).AssertOkJsonAsync();
        var after = await client.GetOkJsonAsync("/posts/" + Uri("counted"));

        Assert.Equal(0, notOldEnough.GetProperty("attempted").GetInt64());
        Assert.Equal(1, before.GetProperty("like_count").GetInt64());
        Assert.Equal(1, refreshed.GetProperty("hydrated").GetInt64());
        Assert.Equal(5, after.GetProperty("like_count").GetInt64());
        Assert.Equal("new.test", after.GetProperty("author_handle").GetString());
    }

    [DatabaseTheory]
    [InlineData("/hydrate?older_than=soon")]
    [InlineData("/hydrate?limit=0")]
    public async Task AnInvalidRunRequestIsA400Problem(string path)
    {
        using var service = HydratingService.Start(_appView, provider: provider);

        await (await service.CreateClient().PostAsync(path, null)).AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [DatabaseFact]
    public async Task StatsShowTheWorkerBudgetAndTotals()
    {
        _appView.AddPost(Uri("s1"));
        using var service = HydratingService.Start(_appView, new Dictionary<string, string?>
        {
            ["PostService:Hydration:BudgetCalls"] = "50",
            ["PostService:Hydration:BudgetWindowSeconds"] = "60",
        }, provider: provider);
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPost(Uri("s1")).WithPost(Uri("s2"))))).EnsureSuccessStatusCode();
        await AllSettledAsync(service, 2);

        var stats = await service.CreateClient().GetOkJsonAsync("/hydration/stats");

        Assert.True(stats.GetProperty("worker_enabled").GetBoolean());
        Assert.Equal(50, stats.GetProperty("budget_calls").GetInt32());
        Assert.Equal(60, stats.GetProperty("budget_window_seconds").GetInt32());
        Assert.Equal(_appView.Calls.Count, stats.GetProperty("calls_in_current_window").GetInt32());
        var totals = stats.GetProperty("totals_since_start");
        Assert.Equal(1, totals.GetProperty("hydrated").GetInt64());
        Assert.Equal(1, totals.GetProperty("not_found").GetInt64());
        Assert.Equal(_appView.Calls.Count, totals.GetProperty("api_calls").GetInt64());
    }
}
