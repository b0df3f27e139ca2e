using System.Globalization;
using System.Text;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using PostService.Cli;
using PostService.Ingestion;
using PostService.Storage;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Ingestion;

public abstract class IngestEventLogTests(DatabaseProvider provider) : IDisposable
{
    public sealed class OnSqlite() : IngestEventLogTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgres() : IngestEventLogTests(DatabaseProvider.Postgres), IRunsOnPostgres
    {
        [DatabaseFact]
        public async Task ASqliteLogFillsAFreshPostgresDatabase()
        {
            using var sqlite = new PostServiceFactory();
            await StoreSampleAsync(sqlite);
            using var postgres = TestDatabase.Create(DatabaseProvider.Postgres);

            var replay = await CliRunner.RunAsync(["replay", "--from", sqlite.DatabasePath!, "--to", postgres.ConnectionString]);

            Assert.True(replay.ExitCode == ExitCodes.Ok, replay.ToString());
            Assert.Equal(Rows(sqlite.Database, ServedSql), Rows(postgres, ServedSql));
            Assert.Equal(Rows(sqlite.Database, PostsSql), Rows(postgres, PostsSql));
        }
    }

    private const string FeedRequestsSql =
        "SELECT request_id, requester_did, algo, ts_text(timestamp) AS ts, posts_json, ts_text(received_at) AS received FROM feed_requests ORDER BY request_id";

    // The rows' own ids are surrogates: a replaced request's rows get new ones, over HTTP as in a replay.
    private const string ServedSql = "SELECT request_id, post_index, post_uri FROM feed_request_posts ORDER BY request_id, post_index";

    private const string ServedJsonSql = "SELECT request_id, post_uri, post_json FROM feed_request_posts ORDER BY request_id, post_index";

    private const string PostsSql = "SELECT post_uri, cid, hydration_status, hydration_error FROM posts ORDER BY post_uri";

    private readonly PostServiceFactory _service = new(provider: provider);

    public void Dispose() => _service.Dispose();

    private static IReadOnlyList<string> Rows(TestDatabase database, string sql)
    {
        using var connection = database.Open();
        return connection.Query(sql).Select(row => string.Join(" | ",
            ((IDictionary<string, object?>)row).Values.Select(value => Convert.ToString(value, CultureInfo.InvariantCulture)))).ToList();
    }

    /// <summary>Three requests: the second re-sends the first one's id with other posts, the third has an invalid URI.</summary>
    private static async Task StoreSampleAsync(PostServiceFactory service)
    {
        var first = new RetrievalBuilder().WithId(501).WithPost(RetrievalBuilder.PostUri("a"), 0, cid: "bafyreia").WithPost(RetrievalBuilder.PostUri("b"), 1);
        var other = new RetrievalBuilder().WithId(502).By("did:plc:other").WithPost(RetrievalBuilder.PostUri("c"), 0);
        var resent = new RetrievalBuilder().WithId(501).WithPost(RetrievalBuilder.PostUri("b"), 0).WithPost(RetrievalBuilder.PostUri("d"), 1);
        var invalid = new RetrievalBuilder().WithId(503).WithPost("https://bsky.app/not-an-at-uri", 0).WithPost(null, 1);
        foreach (var batch in new[] { RetrievalBuilder.Batch(first, other), RetrievalBuilder.Batch(resent), RetrievalBuilder.Batch(invalid) })
        {
            (await service.PostRetrievalsAsync(batch)).EnsureSuccessStatusCode();
        }
    }

    [DatabaseFact]
    public async Task EveryAcceptedBodyIsLoggedRawAndARefusedOneIsNot()
    {
        const string body = """{"retrievals": [{"id": 7, "requester_did": "did:plc:s", "timestamp": "2025-05-01T12:00:00Z", "posts": [{"uri": "at://did:plc:a/app.bsky.feed.post/x"}]}]}""";
        var client = _service.CreateClient();

        (await client.PostJsonTextAsync("/feed-retrievals", body)).EnsureSuccessStatusCode();
        await (await client.PostJsonTextAsync("/feed-retrievals", """{"retrievals": []}""")).AssertProblemAsync(System.Net.HttpStatusCode.BadRequest);

        using var connection = _service.OpenDatabase();
        var logged = connection.QuerySingle<(byte[] Body, long Retrievals)>("SELECT body, retrievals FROM ingest_events");
        Assert.Equal(body, Encoding.UTF8.GetString(IngestEventLog.Decompress(logged.Body)));
        Assert.Equal(1, logged.Retrievals);
        Assert.True(logged.Body.Length < Encoding.UTF8.GetByteCount(body) * 2);
    }

    [DatabaseFact]
    public async Task AReplayIntoAnEmptyDatabaseProducesTheSameRows()
    {
        await StoreSampleAsync(_service);
        using var empty = TestDatabase.Create(provider);
        var target = provider == DatabaseProvider.Postgres ? empty.ConnectionString : empty.Path!;
        var source = provider == DatabaseProvider.Postgres ? _service.Database.ConnectionString : _service.DatabasePath!;

        var replay = await CliRunner.RunAsync(["replay", "--from", source, "--to", target]);
        var again = await CliRunner.RunAsync(["replay", "--from", source, "--to", target]);

        Assert.True(replay.ExitCode == ExitCodes.Ok, replay.ToString());
        Assert.Contains("Replayed 3 of 3 logged requests (4 retrievals)", replay.Output);
        Assert.Equal(ExitCodes.Ok, again.ExitCode);
        foreach (var sql in new[] { FeedRequestsSql, ServedSql, ServedJsonSql, PostsSql })
        {
            var original = Rows(_service.Database, sql);
            Assert.NotEmpty(original);
            Assert.Equal(original, Rows(empty, sql));
        }
        Assert.Equal(0, empty.Count("SELECT count(*) FROM ingest_events"));
    }

    [DatabaseFact]
    public async Task AReplayInPlaceWithinATimeRangeChangesNothingAndMarksTheEvents()
    {
        await StoreSampleAsync(_service);
        var before = Rows(_service.Database, ServedSql);
        using (var connection = _service.OpenDatabase())
        {
            connection.Execute("""
                UPDATE ingest_events SET received_at = to_ts('2025-01-01T00:00:00.000Z'), processed_at = to_ts('2025-01-01T00:00:00.000Z')
                WHERE id = (SELECT min(id) FROM ingest_events)
                """);
        }

        // Without --from: the configured database, which on SQLite must be named, as with every verb.
        string[] args = provider == DatabaseProvider.Postgres
            ? ["replay", "--since", "2025-06-01T00:00:00Z"]
            : ["replay", "--from", _service.DatabasePath!, "--since", "2025-06-01T00:00:00Z"];
        var replay = await CliRunner.RunAsync(args, _service.Database.Settings);

        Assert.True(replay.ExitCode == ExitCodes.Ok, replay.ToString());
        Assert.Contains("Replayed 2 of 2 logged requests", replay.Output);
        Assert.Equal(before, Rows(_service.Database, ServedSql));
        Assert.Equal(2, _service.Count("SELECT count(*) FROM ingest_events WHERE processed_at > to_ts('2025-06-01T00:00:00.000Z') AND error IS NULL"));
        Assert.Equal(1, _service.Count("SELECT count(*) FROM ingest_events WHERE processed_at < to_ts('2025-06-01T00:00:00.000Z')"));
    }

    [DatabaseFact]
    public async Task EventsPastTheirRetentionArePrunedAndNoneAreKeptWhenTheLogIsOff()
    {
        await StoreSampleAsync(_service);
        var log = _service.Services.GetRequiredService<IngestEventLog>();

        Assert.Equal(0, await log.PruneAsync(DateTimeOffset.UtcNow.AddDays(29), CancellationToken.None));
        Assert.Equal(3, await log.PruneAsync(DateTimeOffset.UtcNow.AddDays(31), CancellationToken.None));

        using var off = new PostServiceFactory(new Dictionary<string, string?> { ["PostService:Ingestion:EventLogDays"] = "0" }, provider: provider);
        await StoreSampleAsync(off);
        Assert.Equal(0, off.Count("SELECT count(*) FROM ingest_events"));
        Assert.Equal(5, off.Count("SELECT count(*) FROM feed_request_posts"));
    }
}
