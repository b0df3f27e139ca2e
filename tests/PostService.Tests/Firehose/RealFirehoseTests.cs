using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using PostService.Storage;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Firehose;

/// <summary>
/// The consumer on the real PDS firehose (shared/realappview): posts created through the PDS reach the cache as the PDS
/// wrote them, serve with no AppView call, are marked when deleted, and nothing is lost or doubled across a SIGKILL.
/// Each test makes an account of its own, as other engineers' tests share the network.
/// </summary>
public abstract class RealFirehoseTests(DatabaseProvider provider)
{
    public sealed class OnSqlite() : RealFirehoseTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgres() : RealFirehoseTests(DatabaseProvider.Postgres), IRunsOnPostgres;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static RealAppViewNetwork Network => RealAppViewNetwork.Required;

    private static Dictionary<string, string?> FirehoseSettings() => new()
    {
        ["PostService:Firehose:Enabled"] = "true",
        ["PostService:Firehose:Url"] = Network.FirehoseUrl,
        ["PostService:Firehose:MaxReconnectDelaySeconds"] = "1",
        // A killed process's lease runs out soon, so that its successor takes over quickly.
        ["PostService:Firehose:LeaseSeconds"] = "5",
    };

    private static async Task<RealAppViewNetwork.Account> NewAccountAsync() =>
        await Network.CreateAccountAsync("fh" + Guid.NewGuid().ToString("N")[..10]);

    private static string Name(RealAppViewNetwork.Account account) => account.Handle.Split('.')[0];

    private static async Task ConnectedAsync(HttpClient client)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while ((await client.GetFromJsonAsync<JsonElement>("/firehose/status")).GetProperty("connected").GetBoolean() is false)
        {
            Assert.True(DateTime.UtcNow < deadline, "the consumer did not connect to the PDS firehose");
            await Task.Delay(50);
        }
    }

    [RealAppViewDatabaseFact]
    public async Task PostsReachTheCacheAsThePdsWroteThemServeWithNoAppViewCallAndAreMarkedWhenDeleted()
    {
        await using var appView = await FakeAppView.StartAsync();
        using var service = HydratingService.Start(appView, FirehoseSettings(), provider: provider);
        using var client = service.CreateClient();
        await ConnectedAsync(client);
        var account = await NewAccountAsync();
        // The second carries a #tag facet (the control API appends " #Tags" to its text).
        var texts = new[] { "firehose one", "firehose two with #Tags", "firehose três" };
        var created = new List<(string Uri, string Cid)>
        {
            await Network.CreatePostAsync(Name(account), texts[0]),
            await Network.CreateRecordAsync("/post", new { by = Name(account), text = "firehose two with", tags = new[] { "Tags" } }),
            await Network.CreatePostAsync(Name(account), texts[2]),
        };

        await Eventually.TrueAsync(() => service.Count("SELECT count(*) FROM firehose_posts WHERE did = @did", new { did = account.Did }) == 3,
            "the three posts are in the cache", Timeout);
        using (var db = service.OpenDatabase())
        {
            var cached = db.Query<(string Uri, string Cid, string Text)>("SELECT uri, cid, text FROM firehose_posts WHERE did = @did", new { did = account.Did })
                .ToDictionary(post => post.Uri);
            for (var i = 0; i < texts.Length; i++)
            {
                Assert.Equal((created[i].Uri, created[i].Cid, texts[i]), cached[created[i].Uri]);
            }
        }

        var retrieval = new RetrievalBuilder();
        for (var i = 0; i < created.Count; i++)
        {
            retrieval.WithPost(created[i].Uri, i);
        }
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(retrieval), client)).EnsureSuccessStatusCode();
        await Eventually.TrueAsync(() => service.Count(
                "SELECT count(*) FROM posts WHERE author_did = @did AND hydration_status = 'ok' AND metadata_source = 'firehose' AND author_handle = @handle",
                new { did = account.Did, handle = account.Handle }) == 3,
            "the served posts are ok from the firehose's cache", Timeout);
        Assert.DoesNotContain(appView.Calls, call => call.Uris.Intersect(created.Select(post => post.Uri)).Any());
        var stats = await client.GetFromJsonAsync<JsonElement>("/hydration/stats");
        Assert.Equal(3, stats.GetProperty("totals_since_start").GetProperty("hydrated_from_firehose").GetInt64());
        // What follows any fetch follows this one: a first snapshot, from the firehose, and the post's hashtags.
        await Eventually.TrueAsync(() => service.Count("SELECT count(*) FROM post_metric_snapshots s JOIN posts p ON p.post_uri = s.post_uri " +
            "WHERE p.author_did = @did AND s.source = 'firehose'", new { did = account.Did }) == 3, "each settled post has a firehose snapshot", Timeout);
        // The handlers run one after another: hashtags are written after the snapshots.
        await Eventually.TrueAsync(() => service.Count("SELECT count(*) FROM post_hashtags WHERE post_uri = @uri", new { uri = created[1].Uri }) == 1,
            "the tagged post's hashtag is recorded", Timeout);
        var tagged = await client.GetFromJsonAsync<JsonElement>("/hashtags/tags/posts");
        Assert.Equal([created[1].Uri], tagged.GetProperty("items").EnumerateArray().Select(post => post.GetProperty("post_uri").GetString()));

        await Network.DeletePostAsync(created[0].Uri);
        await Eventually.TrueAsync(() => service.Count("SELECT count(*) FROM posts WHERE post_uri = @uri AND deleted_at IS NOT NULL AND not_found_reason = 'deleted' AND text = @text",
            new { uri = created[0].Uri, text = texts[0] }) == 1, "the deleted post is marked and keeps its text", Timeout);
        Assert.Equal(0, service.Count("SELECT count(*) FROM firehose_posts WHERE uri = @uri", new { uri = created[0].Uri }));

        // The author changes handle: their history has it from the #identity event, with no fetch of their posts.
        var renamed = $"fr{Guid.NewGuid():N}"[..12] + ".test";
        await Network.ChangeHandleAsync(account.Did, renamed);
        await Eventually.TrueAsync(() => service.Count("SELECT count(*) FROM author_handles WHERE did = @did", new { did = account.Did }) == 2,
            "the new handle joins the author's history", Timeout);
        var history = await client.GetFromJsonAsync<JsonElement>($"/authors/{account.Did}/handles");
        Assert.Equal([account.Handle, renamed], history.GetProperty("handles").EnumerateArray().Select(handle => handle.GetProperty("handle").GetString()));
    }

    [RealAppViewDatabaseFact]
    public async Task APostWhoseAuthorSentNoIdentityEventWhileTheConsumerListenedHydratesWithNoAppViewCallAndTheDocumentsHandle()
    {
        // Created before the consumer connects: its #identity event is behind the live point the consumer starts from.
        var account = await NewAccountAsync();
        await using var appView = await FakeAppView.StartAsync();
        var settings = FirehoseSettings();
        settings["PostService:Identity:PlcUrl"] = Network.PlcUrl;
        using var service = HydratingService.Start(appView, settings, provider: provider);
        using var client = service.CreateClient();
        await ConnectedAsync(client);
        var post = await Network.CreatePostAsync(Name(account), "no identity event heard");
        await Eventually.TrueAsync(() => service.Count("SELECT count(*) FROM firehose_posts WHERE uri = @uri", new { uri = post.Uri }) == 1,
            "the post is in the cache", Timeout);
        Assert.Equal(0, service.Count("SELECT count(*) FROM firehose_handles WHERE did = @did", new { did = account.Did }));

        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPost(post.Uri, 0)), client)).EnsureSuccessStatusCode();

        await Eventually.TrueAsync(() => service.Count(
                "SELECT count(*) FROM posts WHERE post_uri = @uri AND hydration_status = 'ok' AND metadata_source = 'firehose' AND author_handle = @handle",
                new { uri = post.Uri, handle = account.Handle }) == 1,
            "the served post is ok from the cache, with the handle of its author's DID document", Timeout);
        Assert.DoesNotContain(appView.Calls, call => call.Uris.Contains(post.Uri));
        Assert.Equal(1, service.Count("SELECT count(*) FROM firehose_handles WHERE did = @did AND handle = @handle",
            new { did = account.Did, handle = account.Handle }));
    }

    [RealAppViewDatabaseFact]
    public async Task ALikeByAParticipantWhoseRepositoryIsBackfilledArrivesLiveInTheEngagements()
    {
        var participant = await NewAccountAsync();
        var author = await NewAccountAsync();
        var (served, _) = await Network.CreatePostAsync(Name(author), "served, then liked while the consumer listens");
        await using var appView = await FakeAppView.StartAsync();
        var settings = FirehoseSettings();
        settings["PostService:Identity:PlcUrl"] = Network.PlcUrl;
        using var service = HydratingService.Start(appView, settings, provider: provider);
        using var client = service.CreateClient();
        var retrieval = new RetrievalBuilder().By(participant.Did).At(DbTime.ToText(DateTimeOffset.UtcNow.AddHours(-1))).WithPost(served, 2);
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(retrieval), client)).EnsureSuccessStatusCode();
        (await client.PostAsJsonAsync("/backfill/repos", new { dids = new[] { participant.Did } })).EnsureSuccessStatusCode();
        await Eventually.TrueAsync(() => client.GetStringAsync("/backfill/repos/" + participant.Did).GetAwaiter().GetResult().Contains("\"complete\""),
            "the backfill completes", Timeout);
        await ConnectedAsync(client);

        var (like, _) = await Network.CreateRecordAsync("/like", new { by = participant.Did, uri = served });

        await Eventually.TrueAsync(() => service.Count("SELECT count(*) FROM repo_records WHERE uri = @like AND record_type = 'like' AND subject_uri = @served",
            new { like, served }) == 1, "the like is kept as the backfill keeps it", Timeout);
        var items = (await (await client.GetAsync($"/engagements?requester_did={participant.Did}")).AssertOkJsonAsync()).GetProperty("items");
        var row = Assert.Single(items.EnumerateArray());
        Assert.Equal((like, "like", served, retrieval.Id, 2L), (row.GetProperty("engagement_uri").GetString(), row.GetProperty("engagement_type").GetString(),
            row.GetProperty("post_uri").GetString(), row.GetProperty("request_id").GetInt64(), row.GetProperty("position").GetInt64()));
    }

    [RealAppViewDatabaseFact]
    public async Task AfterASigkillMidStreamARestartResumesFromTheCheckpointWithNothingMissedOrDoubled()
    {
        using var database = TestDatabase.Create(provider);
        var settings = new Dictionary<string, string?>(database.Settings) { ["PostService:Hydration:Enabled"] = "false" };
        foreach (var (key, value) in FirehoseSettings())
        {
            settings[key] = value;
        }
        var account = await NewAccountAsync();
        const int Rounds = 6, PostsPerRound = 25;

        // Without a checkpoint the consumer starts live: what happens after it connects is what it must keep.
        await using var service = await ServiceProcess.StartAsync(settings);
        using (var client = service.CreateClient())
        {
            await ConnectedAsync(client);
        }
        var liked = await Network.CreatePostAsync(Name(account), "liked while the consumer dies");
        var posted = 1;
        var likes = 0;
        for (var round = 0; round < Rounds; round++)
        {
            await Network.CreatePostsAsync(Name(account), PostsPerRound, $"round {round}");
            await Network.LikeAsync(Name(account), liked.Uri);
            (posted, likes) = (posted + PostsPerRound, likes + 1);
            if (round == 1)
            {
                // Killed while events are arriving; the next rounds happen while it is down.
                await service.KillAsync();
            }
        }
        Assert.True(database.Count("SELECT count(*) FROM firehose_posts WHERE did = @did", new { did = account.Did }) < posted,
            "the consumer was down for part of the stream");

        await using var restarted = await ServiceProcess.StartAsync(settings);
        await Eventually.TrueAsync(() => database.Count("SELECT count(*) FROM firehose_posts WHERE did = @did", new { did = account.Did }) == posted,
            $"all {posted} posts are cached after the restart", Timeout);
        await Eventually.TrueAsync(() => database.Count("SELECT coalesce(max(like_count), 0) FROM firehose_counts WHERE uri = @uri", new { uri = liked.Uri }) == likes,
            $"the post has exactly {likes} likes", Timeout);
    }

    /// <summary>Runs the CLI's firehose verb to live on a fresh database of the test's store.</summary>
    private static async Task<CliResult> FirehoseVerbAsync(TestDatabase database, params string[] options)
    {
        var settings = new Dictionary<string, string?>(database.Settings) { ["PostService:Firehose:LiveLagSeconds"] = "0" };
        var args = database.Path is { } path ? new[] { "--db", path } : [];
        if (database.Path is { } file)
        {
            await File.WriteAllBytesAsync(file, []);
        }
        return await CliRunner.RunAsync(["firehose", .. args, "--url", Network.FirehoseUrl, .. options, "--stop-when-live"], settings);
    }

    [RealAppViewDatabaseFact]
    public async Task DaysAppliesOnlyTheEventsOfThatWindowFromTheOldestOn()
    {
        using var database = TestDatabase.Create(provider);
        var account = await NewAccountAsync();
        var (before, _) = await Network.CreatePostAsync(Name(account), "before the window");
        await Task.Delay(TimeSpan.FromSeconds(3));
        var (inside, _) = await Network.CreatePostAsync(Name(account), "inside the window");
        var sinceInside = System.Diagnostics.Stopwatch.StartNew();

        // The window opens 1.5 s before the second post: the first, 3 s older, is left out.
        var result = await FirehoseVerbAsync(database, "--days",
            ((sinceInside.Elapsed.TotalSeconds + 1.5) / 86_400).ToString("R", System.Globalization.CultureInfo.InvariantCulture));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(1, database.Count("SELECT count(*) FROM firehose_posts WHERE uri = @uri", new { uri = inside }));
        Assert.Equal(0, database.Count("SELECT count(*) FROM firehose_posts WHERE uri = @uri", new { uri = before }));
        Assert.True(database.Count("SELECT cursor FROM firehose_cursor") > 0);
    }

    [RealAppViewDatabaseFact]
    public async Task ACursorFarInThePastGetsTheOldestEventsThePdsKeeps()
    {
        using var database = TestDatabase.Create(provider);

        var result = await FirehoseVerbAsync(database, "--cursor", "0");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Live at cursor", result.Output);
        // The posts start.sh seeded are among the PDS's first events.
        Assert.Equal(1, database.Count("SELECT count(*) FROM firehose_posts WHERE uri = @uri", new { uri = Network.Posts["plain"] }));
        Assert.True(database.Count("SELECT cursor FROM firehose_cursor") > 0);
    }
}
