using System.Formats.Cbor;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PostService.Firehose;
using PostService.Storage;
using PostService.Storage.Migrations;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Firehose;

/// <summary>
/// The consumer against a loopback firehose serving real PDS frames (and broken ones), on each store: what it keeps,
/// where it resumes, what it skips, and that a URL has one consumer at a time.
/// </summary>
public abstract class FirehoseConsumerTests(DatabaseProvider provider) : IAsyncLifetime
{
    public sealed class OnSqlite() : FirehoseConsumerTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgres() : FirehoseConsumerTests(DatabaseProvider.Postgres), IRunsOnPostgres;

    private const int MaxFrameBytes = 16 * 1024;

    private readonly TestDatabase _database = TestDatabase.Create(provider);
    private readonly LogCapture _logs = new();
    private FakeFirehose _firehose = null!;
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        _firehose = await FakeFirehose.StartAsync();
        _firehose.Frames = RecordedFrames.All;
        _services = Services("replica-a");
        await _services.GetRequiredService<Migrator>().MigrateAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _firehose.DisposeAsync();
        _database.Dispose();
    }

    private ServiceProvider Services(string replica, int leaseSeconds = 30) => CoreServices.For(new Dictionary<string, string?>(_database.Settings)
    {
        ["PostService:Firehose:ReplicaId"] = replica,
        ["PostService:Firehose:LeaseSeconds"] = leaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["PostService:Firehose:MaxFrameBytes"] = MaxFrameBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["PostService:Firehose:LiveLagSeconds"] = "0",
        ["PostService:Firehose:MaxReconnectDelaySeconds"] = "1",
        // No PLC directory listens there: the recorded authors' handles are known only from the stream.
        ["PostService:Identity:PlcUrl"] = "http://127.0.0.1:9",
        ["PostService:Identity:MaxRetries"] = "0",
    }, _logs);

    private Task ConsumeUntilLiveAsync(ServiceProvider? services = null) =>
        (services ?? _services).GetRequiredService<FirehoseConsumer>().RunAsync(new FirehoseRunSpec(_firehose.Url, StopWhenLive: true), CancellationToken.None);

    private FirehoseStatus Status => _services.GetRequiredService<FirehoseStatus>();

    private string? CachedText(string uri)
    {
        using var db = _database.Open();
        return db.QuerySingleOrDefault<string?>("SELECT text FROM firehose_posts WHERE uri = @uri", new { uri });
    }

    private long? SavedCursor()
    {
        using var db = _database.Open();
        return db.QuerySingleOrDefault<long?>("SELECT cursor FROM firehose_cursor");
    }

    private void Serve(string uri, string status = "pending")
    {
        using var db = _database.Open();
        db.Execute("INSERT INTO posts (post_uri, hydration_status, text, author_did) VALUES (@uri, @status, 'as served', 'did:plc:someone')", new { uri, status });
    }

    [DatabaseFact]
    public async Task RecordedFramesFillTheCacheAndTheCursorIsSaved()
    {
        Serve(RecordedFrames.BobPost);

        await ConsumeUntilLiveAsync();

        Assert.Equal("Reader test: hello from alice #atproto #dotnet", CachedText(RecordedFrames.AlicePost));
        Assert.Equal("Replying to bob", CachedText(RecordedFrames.AliceReply));
        Assert.Null(CachedText(RecordedFrames.BobDeleted));
        Assert.Equal(43, SavedCursor());
        Assert.Equal(1, _database.Count("SELECT reply_count FROM firehose_counts WHERE uri = @uri", new { uri = RecordedFrames.BobPost }));
        using var db = _database.Open();
        Assert.Equal("atreader2.test", db.QuerySingle<string>("SELECT handle FROM firehose_handles WHERE did = @did", new { did = RecordedFrames.AtReader }));
        Assert.Equal(9, Status.EventsApplied);
    }

    [DatabaseFact]
    public async Task ARestartResumesAfterTheCheckpointAndAppliesNothingTwice()
    {
        Serve(RecordedFrames.BobPost);
        await ConsumeUntilLiveAsync();

        await using (var restarted = Services("replica-a"))
        {
            await ConsumeUntilLiveAsync(restarted);
        }

        Assert.Equal([null, 43], _firehose.Cursors);
        Assert.Equal(1, _database.Count("SELECT reply_count FROM firehose_counts WHERE uri = @uri", new { uri = RecordedFrames.BobPost }));
        Assert.Equal(2, _database.Count("SELECT count(*) FROM firehose_posts"));
    }

    [DatabaseFact]
    public async Task MalformedAndOversizedFramesAreLoggedAndSkipped()
    {
        _firehose.Frames =
        [
            new FakeFrame(29, [0xa2, 0x62, 0x6f, 0x70]),
            new FakeFrame(29, new byte[MaxFrameBytes * 2]),
            .. RecordedFrames.All,
        ];

        await ConsumeUntilLiveAsync();

        Assert.Equal(2, Status.FramesSkipped);
        Assert.Equal(9, Status.EventsApplied);
        Assert.NotNull(CachedText(RecordedFrames.AlicePost));
        Assert.Contains(_logs.Entries, log => log.Level == LogLevel.Warning && log.Message.Contains("malformed frame", StringComparison.Ordinal));
        Assert.Contains(_logs.Entries, log => log.Level == LogLevel.Warning && log.Message.Contains($"more than {MaxFrameBytes} bytes", StringComparison.Ordinal));
    }

    [DatabaseFact]
    public async Task AnErrorFrameIsLoggedAndTheConsumerReconnectsFromTheLastEvent()
    {
        var post = RecordedFrames.All.Single(frame => frame.Seq == 30);
        var reply = RecordedFrames.All.Single(frame => frame.Seq == 32);
        _firehose.Frames = [post, new FakeFrame(30, ErrorFrame("ConsumerTooSlow", "slow down")), reply];

        await ConsumeUntilLiveAsync();

        Assert.Equal([null, 30], _firehose.Cursors);
        Assert.NotNull(CachedText(RecordedFrames.AliceReply));
        Assert.Contains(_logs.Entries, log => log.Level == LogLevel.Warning && log.Message.Contains("ConsumerTooSlow", StringComparison.Ordinal));
    }

    [DatabaseFact]
    public async Task ATooManyRequestsAnswerIsWaitedOutAndTheConsumerCarriesOn()
    {
        _firehose.Refusals.Enqueue((429, 1));

        await ConsumeUntilLiveAsync();

        Assert.Single(_firehose.Cursors);
        Assert.NotNull(CachedText(RecordedFrames.AlicePost));
        Assert.Contains(_logs.Entries, log => log.Message.Contains("429", StringComparison.Ordinal));
    }

    [DatabaseFact]
    public async Task ADeletedPostThatWasServedKeepsItsMetadataAndIsMarked()
    {
        Serve(RecordedFrames.BobDeleted, status: "ok");

        await ConsumeUntilLiveAsync();

        using var db = _database.Open();
        var served = db.QuerySingle<(string Text, string? DeletedAt, string? Reason, string Status)>(
            "SELECT text, ts_text(deleted_at), not_found_reason, hydration_status FROM posts WHERE post_uri = @uri", new { uri = RecordedFrames.BobDeleted });
        Assert.Equal("as served", served.Text);
        Assert.NotNull(served.DeletedAt);
        Assert.Equal("deleted", served.Reason);
        Assert.Equal("ok", served.Status);
    }

    [DatabaseFact]
    public async Task AServedPostInTheCacheIsHydratedFromItOnceItsAuthorsHandleIsKnown()
    {
        Serve(RecordedFrames.AlicePost);
        await ConsumeUntilLiveAsync();
        var hydrator = _services.GetRequiredService<FirehoseHydrator>();

        Assert.Empty(await hydrator.TryHydrateAsync([RecordedFrames.AlicePost], CancellationToken.None));
        using (var db = _database.Open())
        {
            db.Execute("INSERT INTO firehose_handles (did, handle, updated_at) VALUES (@did, 'alice.test', to_ts('2026-01-01T00:00:00.000Z'))", new { did = RecordedFrames.Alice });
        }

        var settled = Assert.Single(await hydrator.TryHydrateAsync([RecordedFrames.AlicePost, RecordedFrames.BobPost], CancellationToken.None));
        Assert.Equal(RecordedFrames.AlicePost, settled.Uri);
        // What follows a fetch (snapshots, hashtags, rule tags) gets the cached record as the AppView's would be given.
        Assert.Equal(("firehose", "alice.test"), (settled.Source, settled.AuthorHandle));
        Assert.Equal(["atproto", "dotnet"], settled.Hashtags!);
        using var check = _database.Open();
        var post = check.QuerySingle<(string Status, string Source, string Handle, string Text, string Cid)>(
            "SELECT hydration_status, metadata_source, author_handle, text, cid FROM posts WHERE post_uri = @uri", new { uri = RecordedFrames.AlicePost });
        Assert.Equal(("ok", "firehose", "alice.test", "Reader test: hello from alice #atproto #dotnet"), (post.Status, post.Source, post.Handle, post.Text));
        Assert.StartsWith("bafyrei", post.Cid);
    }

    [DatabaseFact]
    public async Task OneProcessAtATimeHoldsAUrlAndALaterOneTakesOverWhenItsLeaseRunsOut()
    {
        var store = _services.GetRequiredService<FirehoseStore>();
        var url = FirehoseConsumer.SubscribeUrl(_firehose.Url);
        var now = DateTimeOffset.UtcNow;
        Assert.True((await store.TakeLeaseAsync(url, "replica-a", now, now.AddSeconds(30), CancellationToken.None)).Acquired);
        await store.ApplyAsync(url, "replica-a", [new FirehoseEvent(7, now, [])], now, now.AddSeconds(30), CancellationToken.None);

        var refused = await store.TakeLeaseAsync(url, "replica-b", now.AddSeconds(10), now.AddSeconds(40), CancellationToken.None);
        Assert.Equal(new FirehoseLease(false, 7, "replica-a"), refused);

        var takeover = await store.TakeLeaseAsync(url, "replica-b", now.AddSeconds(31), now.AddSeconds(61), CancellationToken.None);
        Assert.Equal(new FirehoseLease(true, 7, "replica-b"), takeover);
        await Assert.ThrowsAsync<FirehoseLeaseLostException>(() =>
            store.ApplyAsync(url, "replica-a", [new FirehoseEvent(8, now, [])], now.AddSeconds(32), now.AddSeconds(62), CancellationToken.None));
        Assert.Equal(7, SavedCursor());
    }

    [DatabaseFact]
    public async Task AStandbyReplicaTakesOverFromTheCheckpointWhenTheConsumingOneDies()
    {
        Serve(RecordedFrames.BobPost);
        await using var first = Services("replica-a", leaseSeconds: 3);
        await using var second = Services("replica-b", leaseSeconds: 3);
        using var death = new CancellationTokenSource();
        var consuming = first.GetRequiredService<FirehoseConsumer>().RunAsync(new FirehoseRunSpec(_firehose.Url), death.Token);
        await Eventually.TrueAsync(() => SavedCursor() == 43, "the first replica applied the stream");

        var standingBy = second.GetRequiredService<FirehoseConsumer>().RunAsync(new FirehoseRunSpec(_firehose.Url, StopWhenLive: true), CancellationToken.None);
        await Eventually.TrueAsync(() => second.GetRequiredService<FirehoseStatus>().State == FirehoseState.Standby, "the second replica stands by");
        Assert.Single(_firehose.Cursors);
        // Cancelled mid-run, the first replica keeps its lease, as a killed process would.
        await death.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => consuming);
        await standingBy.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal([null, 43], _firehose.Cursors);
        Assert.Equal(1, _database.Count("SELECT reply_count FROM firehose_counts WHERE uri = @uri", new { uri = RecordedFrames.BobPost }));
    }

    [DatabaseFact]
    public async Task PruningDropsPostsSeenBeforeTheWindowAndKeepsTheCountsOfServedOnes()
    {
        var store = _services.GetRequiredService<FirehoseStore>();
        var url = FirehoseConsumer.SubscribeUrl(_firehose.Url);
        var now = DateTimeOffset.UtcNow;
        const string Old = "at://did:plc:old/app.bsky.feed.post/1", OldServed = "at://did:plc:old/app.bsky.feed.post/2", Recent = "at://did:plc:new/app.bsky.feed.post/3";
        Serve(OldServed);
        static PostCreated Post(string uri) => new(uri, "did:plc:x", "bafyreib", null, "text", null, null, null, null, null, null);
        await store.TakeLeaseAsync(url, "replica-a", now, now.AddSeconds(30), CancellationToken.None);
        await store.ApplyAsync(url, "replica-a",
        [
            new FirehoseEvent(1, now.AddHours(-200), [Post(Old), Post(OldServed), new EngagementCreated(EngagementKind.Like, Old), new EngagementCreated(EngagementKind.Like, OldServed)]),
            new FirehoseEvent(2, now, [Post(Recent)]),
        ], now, now.AddSeconds(30), CancellationToken.None);

        Assert.Equal(2, await store.PruneAsync(now.AddHours(-168), CancellationToken.None));

        Assert.Equal([Recent], Cached());
        Assert.Equal(1, _database.Count("SELECT like_count FROM firehose_counts WHERE uri = @uri", new { uri = OldServed }));
        Assert.Equal(0, _database.Count("SELECT count(*) FROM firehose_counts WHERE uri = @uri", new { uri = Old }));
    }

    private List<string> Cached()
    {
        using var db = _database.Open();
        return db.Query<string>("SELECT uri FROM firehose_posts").AsList();
    }

    [DatabaseFact]
    public async Task AnOutdatedCursorIsLoggedAndTheStreamCarriesOnFromTheOldestEvent()
    {
        _firehose.Frames = [new FakeFrame(29, Frame(1, "#info", ("name", "OutdatedCursor"), ("message", "cursor too old"))), .. RecordedFrames.All];

        await ConsumeUntilLiveAsync();

        Assert.Equal(9, Status.EventsApplied);
        Assert.Contains(_logs.Entries, log => log.Level == LogLevel.Warning
            && log.Message.Contains("older than", StringComparison.Ordinal) && log.Message.Contains("cursor too old", StringComparison.Ordinal));
    }

    /// <summary>An op -1 frame, as a server sends before closing the connection.</summary>
    private static byte[] ErrorFrame(string error, string message) => Frame(-1, null, ("error", error), ("message", message));

    /// <summary>A frame of header <c>{op, t}</c> and a body of text fields.</summary>
    private static byte[] Frame(int op, string? type, params (string Key, string Value)[] body)
    {
        var writer = new CborWriter(CborConformanceMode.Canonical, allowMultipleRootLevelValues: true);
        writer.WriteStartMap(type is null ? 1 : 2);
        writer.WriteTextString("op");
        writer.WriteInt32(op);
        if (type is not null)
        {
            writer.WriteTextString("t");
            writer.WriteTextString(type);
        }
        writer.WriteEndMap();
        writer.WriteStartMap(body.Length);
        foreach (var (key, value) in body)
        {
            writer.WriteTextString(key);
            writer.WriteTextString(value);
        }
        writer.WriteEndMap();
        return writer.Encode();
    }
}
