using System.Globalization;
using System.Net;
using System.Text.Json;
using Dapper;
using PostService.Cli;
using PostService.Storage;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Exports;

/// <summary>
/// Exports read back by DuckDB, an independent reader, agree with the database row for row: the seeded dataset has
/// several requesters, algorithms and days, posts served more than once, hydrated text that needs CSV quoting, language
/// lists that are empty or absent, and posts never hydrated.
/// </summary>
public abstract class ExportsTests(DatabaseProvider provider) : IDisposable
{
    public sealed class OnSqlite() : ExportsTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgres() : ExportsTests(DatabaseProvider.Postgres), IRunsOnPostgres;

    private const string Alice = "did:plc:alice";
    private const string Bob = "did:plc:bob";

    // Row groups of 4 rows, so that the seeded exposures span several.
    private readonly PostServiceFactory _service = new(new Dictionary<string, string?> { ["PostService:Exports:RowGroupSize"] = "4" }, provider: provider);
    private readonly string _directory = TempDirectory.Create();

    public void Dispose()
    {
        _service.Dispose();
        TempDirectory.Delete(_directory);
    }

    // The database's exposures, as text: times as Unix milliseconds (Parquet) or stored ISO-8601 text (CSV), lists joined by commas.
    private const string ExposuresInDatabase = """
        SELECT r.request_id, r.requester_did, r.algo, ts_text(r.timestamp) AS served_at, frp.post_index, frp.post_uri, p.author_did,
               p.author_handle, ts_text(p.created_at) AS created_at, p.text, p.langs, p.hydration_status,
               p.not_found_reason, ts_text(p.deleted_at) AS deleted_at, p.like_count, p.repost_count, p.reply_count, p.quote_count
        FROM feed_request_posts frp JOIN feed_requests r ON r.request_id = frp.request_id LEFT JOIN posts p ON p.post_uri = frp.post_uri
        """;

    private const string ExposuresFromParquet = """
        SELECT request_id, requester_did, algo, epoch_ms(served_at), position, post_uri, author_did, author_handle,
               epoch_ms(post_created_at), text, array_to_string(langs, ','), hydration_status, not_found_reason, epoch_ms(deleted_at), like_count, repost_count, reply_count, quote_count
        FROM read_parquet({0}) ORDER BY request_id, position
        """;

    private const string ExposuresFromCsv = """
        SELECT request_id, requester_did, algo, served_at, position, post_uri, author_did, author_handle,
               post_created_at, text, langs, hydration_status, not_found_reason, deleted_at, like_count, repost_count, reply_count, quote_count
        FROM read_csv({0}, header = true, all_varchar = true, allow_quoted_nulls = false) ORDER BY request_id::BIGINT, position::BIGINT
        """;

    [DatabaseFact]
    public async Task ExposuresAsParquetAgreeWithTheDatabaseRowForRow()
    {
        await SeedAsync();

        var file = await DownloadAsync("/exports/exposures.parquet");

        var expected = DatabaseExposures(time => DbTime.TryParse(time, out var value) ? value.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) : null,
            langs => langs is null ? null : string.Join(',', JsonSerializer.Deserialize<string[]>(langs)!));
        var exported = DuckDbFiles.Query(string.Format(CultureInfo.InvariantCulture, ExposuresFromParquet, DuckDbFiles.Literal(file)));
        Assert.Equal(expected, exported);
        Assert.Equal(
            "BIGINT VARCHAR TIMESTAMP WITH TIME ZONE VARCHAR[]",
            string.Join(' ', DuckDbFiles.Query($"SELECT typeof(position), typeof(post_uri), typeof(served_at), typeof(langs) FROM read_parquet({DuckDbFiles.Literal(file)}) LIMIT 1").Single()));
        // Written as they filled: 9 rows in groups of 4.
        Assert.Equal("3", DuckDbFiles.Scalar($"SELECT count(DISTINCT row_group_id) FROM parquet_metadata({DuckDbFiles.Literal(file)})"));
    }

    [DatabaseFact]
    public async Task ExposuresAsCsvAgreeWithTheDatabaseRowForRow()
    {
        await SeedAsync();

        var response = await _service.CreateClient().GetAsync("/exports/exposures.csv");
        var file = await SaveAsync(response, "exposures.csv");

        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var expected = DatabaseExposures(time => time, langs => langs is null ? null : JsonSerializer.Serialize(JsonSerializer.Deserialize<string[]>(langs)));
        var exported = DuckDbFiles.Query(string.Format(CultureInfo.InvariantCulture, ExposuresFromCsv, DuckDbFiles.Literal(file)));
        Assert.Equal(expected, exported);
        var bytes = await File.ReadAllBytesAsync(file);
        Assert.StartsWith("request_id,requester_did,algo,served_at,position,post_uri,", System.Text.Encoding.UTF8.GetString(bytes));
        Assert.NotEqual(0xEF, bytes[0]);
    }

    [DatabaseFact]
    public async Task FiltersSelectFeedRequestsByRequesterAlgoAndTime()
    {
        await SeedAsync();

        var exposures = await DownloadAsync($"/exports/exposures.parquet?requester_did={Alice}&since=2025-05-02&until=2025-05-04");
        var posts = await DownloadAsync($"/exports/posts.csv?algo=other-feed");

        Assert.Equal(
            _service.Count("""
                SELECT count(*) FROM feed_request_posts frp JOIN feed_requests r ON r.request_id = frp.request_id
                WHERE r.requester_did = @Alice AND r.timestamp >= to_ts('2025-05-02T00:00:00.000Z') AND r.timestamp < to_ts('2025-05-04T00:00:00.000Z')
                """, new { Alice }).ToString(CultureInfo.InvariantCulture),
            DuckDbFiles.Scalar($"SELECT count(*) FROM read_parquet({DuckDbFiles.Literal(exposures)})"));
        Assert.Equal("4", DuckDbFiles.Scalar($"SELECT count(*) FROM read_parquet({DuckDbFiles.Literal(exposures)})"));
        Assert.Equal(
            ["at://did:plc:author1/app.bsky.feed.post/shared", "at://did:plc:author2/app.bsky.feed.post/other"],
            DuckDbFiles.Query($"SELECT post_uri FROM read_csv({DuckDbFiles.Literal(posts)}, header = true) ORDER BY post_uri").Select(row => row[0]));
    }

    [DatabaseFact]
    public async Task PostsAgreeWithTheDatabase()
    {
        await SeedAsync();

        var parquet = await DownloadAsync("/exports/posts.parquet");
        var csv = await DownloadAsync("/exports/posts.csv");

        using var db = _service.OpenDatabase();
        var expected = db.Query<(string PostUri, string Status, long? Likes)>("SELECT post_uri, hydration_status, like_count FROM posts")
            .OrderBy(row => row.PostUri, StringComparer.Ordinal)
            .Select(row => new[] { row.PostUri, row.Status, row.Likes?.ToString(CultureInfo.InvariantCulture) })
            .ToList();
        Assert.Equal(expected, DuckDbFiles.Query($"SELECT post_uri, hydration_status, like_count FROM read_parquet({DuckDbFiles.Literal(parquet)}) ORDER BY post_uri"));
        Assert.Equal(expected, DuckDbFiles.Query($"SELECT post_uri, hydration_status, like_count FROM read_csv({DuckDbFiles.Literal(csv)}, header = true, all_varchar = true) ORDER BY post_uri"));
    }

    [DatabaseFact]
    public async Task PostsCarryWhyAPostIsGone()
    {
        await SeedAsync();

        var parquet = await DownloadAsync("/exports/posts.parquet");
        var csv = await DownloadAsync("/exports/posts.csv");

        using var db = _service.OpenDatabase();
        var rows = db.Query<(string PostUri, string? Reason, string? DeletedAt)>("SELECT post_uri, not_found_reason, ts_text(deleted_at) FROM posts")
            .OrderBy(row => row.PostUri, StringComparer.Ordinal).ToList();
        Assert.Contains(rows, row => row.Reason == "deleted" && row.DeletedAt is not null);
        Assert.Equal(
            rows.Select(row => new[] { row.PostUri, row.Reason, DbTime.TryParse(row.DeletedAt, out var at) ? at.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) : null }),
            DuckDbFiles.Query($"SELECT post_uri, not_found_reason, epoch_ms(deleted_at) FROM read_parquet({DuckDbFiles.Literal(parquet)}) ORDER BY post_uri"));
        Assert.Equal(
            rows.Select(row => new[] { row.PostUri, row.Reason, row.DeletedAt }),
            DuckDbFiles.Query($"SELECT post_uri, not_found_reason, deleted_at FROM read_csv({DuckDbFiles.Literal(csv)}, header = true, all_varchar = true) ORDER BY post_uri"));
        Assert.Equal("TIMESTAMP WITH TIME ZONE", DuckDbFiles.Scalar($"SELECT typeof(deleted_at) FROM read_parquet({DuckDbFiles.Literal(parquet)}) LIMIT 1"));
    }

    // The engagements as GET /engagements lists them (served and not), and as read back: times as Unix milliseconds (Parquet) or
    // ISO-8601 text (CSV), seconds as milliseconds.
    private const string EngagementsFromParquet = """
        SELECT requester_did, engagement_uri, engagement_type, post_uri, served_uri, epoch_ms(engaged_at), request_id, position,
               epoch_ms(served_at), round(seconds_after_served * 1000)::BIGINT, CASE WHEN served THEN 'true' ELSE 'false' END
        FROM read_parquet({0}) ORDER BY engagement_uri
        """;

    private const string EngagementsFromCsv = """
        SELECT requester_did, engagement_uri, engagement_type, post_uri, served_uri, engaged_at, request_id, position,
               served_at, round(seconds_after_served::DOUBLE * 1000)::BIGINT, served
        FROM read_csv({0}, header = true, all_varchar = true) ORDER BY engagement_uri
        """;

    [DatabaseFact]
    public async Task EngagementsAgreeWithTheEngagementsEndpointRowForRow()
    {
        await SeedAsync();
        SeedEngagements();

        var parquet = await DownloadAsync("/exports/engagements.parquet");
        var csv = await DownloadAsync("/exports/engagements.csv");

        var listed = await ListedEngagementsAsync("");
        Assert.Equal(5, listed.Count);
        Assert.Equal(
            listed.Select(row => EngagementRow(row, time => DbTime.TryParse(time, out var at) ? at.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) : null)),
            DuckDbFiles.Query(string.Format(CultureInfo.InvariantCulture, EngagementsFromParquet, DuckDbFiles.Literal(parquet))));
        Assert.Equal(
            listed.Select(row => EngagementRow(row, time => time)),
            DuckDbFiles.Query(string.Format(CultureInfo.InvariantCulture, EngagementsFromCsv, DuckDbFiles.Literal(csv))));
        Assert.Equal(
            "BIGINT DOUBLE BOOLEAN TIMESTAMP WITH TIME ZONE",
            string.Join(' ', DuckDbFiles.Query($"SELECT typeof(position), typeof(seconds_after_served), typeof(served), typeof(engaged_at) FROM read_parquet({DuckDbFiles.Literal(parquet)}) LIMIT 1").Single()));
    }

    [DatabaseFact]
    public async Task EngagementsAreFilteredByEngagerAndTimeAndRefuseAnAlgo()
    {
        await SeedAsync();
        SeedEngagements();
        const string Filters = $"requester_did={Alice}&since=2025-05-02&until=2025-05-03";

        var file = await DownloadAsync($"/exports/engagements.csv?{Filters}");

        Assert.Equal(
            (await ListedEngagementsAsync("&" + Filters)).Select(row => row.GetProperty("engagement_uri").GetString()),
            DuckDbFiles.Query($"SELECT engagement_uri FROM read_csv({DuckDbFiles.Literal(file)}, header = true, all_varchar = true) ORDER BY engagement_uri").Select(row => row[0]));
        Assert.Equal("2", DuckDbFiles.Scalar($"SELECT count(*) FROM read_csv({DuckDbFiles.Literal(file)}, header = true)"));
        await (await _service.CreateClient().GetAsync("/exports/engagements.parquet?algo=other-feed")).AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    private async Task<List<JsonElement>> ListedEngagementsAsync(string filters)
    {
        var client = _service.CreateClient();
        var rows = new List<JsonElement>();
        foreach (var served in (string[])["true", "false"])
        {
            var page = await (await client.GetAsync($"/engagements?served={served}&limit=100{filters}")).AssertOkJsonAsync();
            rows.AddRange(page.GetProperty("items").EnumerateArray());
        }
        return [.. rows.OrderBy(row => row.GetProperty("engagement_uri").GetString(), StringComparer.Ordinal)];
    }

    private static string?[] EngagementRow(JsonElement row, Func<string?, string?> time)
    {
        string? Value(string name) => row.GetProperty(name) switch
        {
            { ValueKind: JsonValueKind.Null } => null,
            { ValueKind: JsonValueKind.String } text => text.GetString(),
            var other => other.GetRawText(),
        };
        return
        [
            Value("requester_did"), Value("engagement_uri"), Value("engagement_type"), Value("post_uri"), Value("served_uri"),
            time(Value("engaged_at")), Value("request_id"), Value("position"), time(Value("served_at")),
            row.GetProperty("seconds_after_served") is { ValueKind: JsonValueKind.Number } seconds
                ? Math.Round(seconds.GetDouble() * 1000).ToString(CultureInfo.InvariantCulture) : null,
            Value("served"),
        ];
    }

    /// <summary>
    /// Backfilled records: Alice likes a post half an hour after it was served to her and reposts one before it was; Bob
    /// replies to a post an hour after it was served to him and quotes one never served; Alice's own post is no engagement.
    /// </summary>
    private void SeedEngagements()
    {
        using var db = _service.OpenDatabase();
        const string Insert = """
            INSERT INTO repo_records (uri, did, collection, rkey, cid, record_type, created_at, subject_uri, subject_did, record_json, backfilled_at)
            VALUES (@Uri, @Did, 'app.bsky.feed.like', @Rkey, 'bafycid', @Type, to_ts(@CreatedAt), @Subject, NULL, to_json_doc('{}'), to_ts('2025-06-01T00:00:00.000Z'))
            """;
        (string Did, string Rkey, string Type, string CreatedAt, string? Subject)[] records =
        [
            (Alice, "like1", "like", "2025-05-02T12:00:00.000Z", RetrievalBuilder.PostUri("shared")),
            (Alice, "repost1", "repost", "2025-05-01T09:00:00.000Z", RetrievalBuilder.PostUri("quoted")),
            (Alice, "like2", "like", "2025-05-02T13:00:00.000Z", RetrievalBuilder.PostUri("never")),
            (Bob, "reply1", "reply", "2025-05-03T09:00:00.000Z", RetrievalBuilder.PostUri("shared")),
            (Bob, "quote1", "quote", "2025-05-04T09:00:00.000Z", RetrievalBuilder.PostUri("quoted")),
            (Alice, "post1", "post", "2025-05-02T14:00:00.000Z", null),
        ];
        foreach (var (did, rkey, type, createdAt, subject) in records)
        {
            db.Execute(Insert, new { Uri = $"at://{did}/app.bsky.feed.like/{rkey}", Did = did, Rkey = rkey, Type = type, CreatedAt = createdAt, Subject = subject });
        }
    }

    [DatabaseFact]
    public async Task AnUnknownDatasetIs404AndABadTimeIs400()
    {
        var client = _service.CreateClient();

        await (await client.GetAsync("/exports/likes.parquet")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await client.GetAsync("/exports/exposures.csv?since=yesterday")).AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [DatabaseFact]
    public async Task TheCliWritesTheSameFileAsTheService()
    {
        await SeedAsync();
        var served = await DownloadAsync("/exports/exposures.parquet");
        var written = Path.Combine(_directory, "cli.parquet");

        string[] database = provider == DatabaseProvider.Sqlite ? ["--db", _service.DatabasePath!] : [];
        var result = await CliRunner.RunAsync(["export", "exposures", "--format", "parquet", "--out", written, .. database], _service.Database.Settings);

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        Assert.Contains("Exported 9 exposures rows", result.Output);
        Assert.False(File.Exists(written + ".partial"));
        const string Rows = "SELECT * FROM read_parquet({0}) ORDER BY request_id, position";
        Assert.Equal(
            DuckDbFiles.Query(string.Format(CultureInfo.InvariantCulture, Rows, DuckDbFiles.Literal(served))),
            DuckDbFiles.Query(string.Format(CultureInfo.InvariantCulture, Rows, DuckDbFiles.Literal(written))));
    }

    private List<string?[]> DatabaseExposures(Func<string?, string?> time, Func<string?, string?> langs)
    {
        using var db = _service.OpenDatabase();
        return db.Query(ExposuresInDatabase)
            .Select(row => (IDictionary<string, object?>)row)
            .Select(row => new[]
            {
                Text(row["request_id"]), Text(row["requester_did"]), Text(row["algo"]), time(Text(row["served_at"])), Text(row["post_index"]),
                Text(row["post_uri"]), Text(row["author_did"]), Text(row["author_handle"]), time(Text(row["created_at"])), Text(row["text"]),
                langs(Text(row["langs"])), Text(row["hydration_status"]), Text(row["not_found_reason"]), time(Text(row["deleted_at"])), Text(row["like_count"]), Text(row["repost_count"]),
                Text(row["reply_count"]), Text(row["quote_count"]),
            })
            .OrderBy(row => long.Parse(row[0]!, CultureInfo.InvariantCulture)).ThenBy(row => long.Parse(row[4]!, CultureInfo.InvariantCulture))
            .ToList();
    }

    private static string? Text(object? value) => value is null ? null : Convert.ToString(value, CultureInfo.InvariantCulture);

    private async Task<string> DownloadAsync(string url) =>
        await SaveAsync(await _service.CreateClient().GetAsync(url), Guid.NewGuid().ToString("N"));

    private async Task<string> SaveAsync(HttpResponseMessage response, string name)
    {
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var path = Path.Combine(_directory, name);
        await using var file = File.Create(path);
        await response.Content.CopyToAsync(file);
        return path;
    }

    /// <summary>Four feed requests over three days by two requesters on two feeds; nine exposures of six posts.</summary>
    private async Task SeedAsync()
    {
        var shared = RetrievalBuilder.PostUri("shared");
        var response = await _service.PostRetrievalsAsync(RetrievalBuilder.Batch(
            new RetrievalBuilder().WithId(1).By(Alice).At("2025-05-01T10:00:00.000Z")
                .WithPost(shared, 0).WithPost(RetrievalBuilder.PostUri("quoted"), 1).WithPost(RetrievalBuilder.PostUri("plain"), 2),
            new RetrievalBuilder().WithId(2).By(Alice).At("2025-05-02T11:30:00.250Z")
                .WithPost(RetrievalBuilder.PostUri("plain"), 0).WithPost(shared, 1).WithPost(RetrievalBuilder.PostUri("nolangs"), 2),
            new RetrievalBuilder().WithId(3).By(Alice).At("2025-05-03T23:59:59.999Z")
                .WithPost(RetrievalBuilder.PostUri("pending"), 0),
            new RetrievalBuilder().WithId(4).By(Bob).WithAlgo("other-feed").At("2025-05-03T08:00:00.000Z")
                .WithPost(shared, 0).WithPost(RetrievalBuilder.PostUri("other", "did:plc:author2"), 1)));
        response.EnsureSuccessStatusCode();
        using var db = _service.OpenDatabase();
        const string Hydrate = """
            UPDATE posts SET hydration_status = 'ok', author_did = @AuthorDid, author_handle = @Handle, text = @Text,
                langs = to_json_doc(@Langs), created_at = to_ts(@CreatedAt), like_count = @Likes, repost_count = 2, reply_count = 0, quote_count = 1
            WHERE post_uri = @PostUri
            """;
        db.Execute(Hydrate, new { PostUri = shared, AuthorDid = "did:plc:author1", Handle = "author1.test", Text = "Hello, world",
            Langs = """["en","de"]""", CreatedAt = "2025-04-30T09:15:00.123Z", Likes = 42L });
        db.Execute(Hydrate, new { PostUri = RetrievalBuilder.PostUri("quoted"), AuthorDid = "did:plc:author1", Handle = "author1.test",
            Text = "She said \"no\",\nthen left 🚪", Langs = """["en"]""", CreatedAt = "2025-04-29T00:00:00.000Z", Likes = 3_000_000_000L });
        db.Execute(Hydrate, new { PostUri = RetrievalBuilder.PostUri("nolangs"), AuthorDid = "did:plc:author1", Handle = "author1.test",
            Text = "", Langs = "[]", CreatedAt = "2025-05-01T00:00:00.000Z", Likes = 0L });
        db.Execute("UPDATE posts SET hydration_status = 'not_found', hydration_error = 'gone', not_found_reason = 'deleted', deleted_at = to_ts(@DeletedAt) WHERE post_uri = @PostUri",
            new { PostUri = RetrievalBuilder.PostUri("other", "did:plc:author2"), DeletedAt = "2025-05-03T09:00:00.500Z" });
    }
}
