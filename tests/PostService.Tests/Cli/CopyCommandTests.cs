using System.Text.Json;
using Dapper;
using PostService.Cli;
using PostService.Storage;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Cli;

/// <summary><c>postservice copy</c>: a legacy compliance.db, migrated, into a fresh PostgreSQL database.</summary>
public sealed class CopyCommandTests : IRunsOnPostgres, IDisposable
{
    private readonly string _directory = TempDirectory.Create();
    private readonly TestDatabase _target = TestDatabase.Create(DatabaseProvider.Postgres);

    public void Dispose()
    {
        _target.Dispose();
        TempDirectory.Delete(_directory);
    }

    private string LegacyFileWithoutOrphans()
    {
        var path = LegacyDatabaseBuilder.OldLayout().WithSampleData().WithManyRequests(300, 30).Write(Path.Combine(_directory, "compliance.db"));
        using var file = DatabaseDump.Open(path);
        file.Execute("DELETE FROM feed_request_posts WHERE request_id NOT IN (SELECT request_id FROM feed_requests)");
        return path;
    }

    private Task<CliResult> CopyAsync(string path) => CliRunner.RunAsync(["copy", "--from", path, "--to", _target.ConnectionString]);

    [DatabaseFact]
    public async Task ACopiedFileServesTheSameRequestsAndPostsFromPostgres()
    {
        var path = LegacyFileWithoutOrphans();

        var result = await CopyAsync(path);

        Assert.True(result.ExitCode == ExitCodes.Ok, result.Output + result.Error);
        Assert.Contains("Copied and verified", result.Output);
        Assert.DoesNotContain("DIFFERENT", result.Output);
        using var fromFile = new PostServiceFactory(database: TestDatabase.ForFile(path));
        using var fromPostgres = new PostServiceFactory(database: _target);
        foreach (var page in (string[])["/posts?limit=1000", "/feed-requests?limit=1000", "/feed-requests/2", "/hydration/coverage"])
        {
            Assert.Equal(Comparable(await fromFile.CreateClient().GetOkJsonAsync(page)), Comparable(await fromPostgres.CreateClient().GetOkJsonAsync(page)));
        }
        Assert.Equal(0, _target.Count(PostNumbers.ServedRowsNotFindingTheirPost));
        Assert.Equal(0, _target.Count(PostNumbers.PostsWithoutNumber));
    }

    [DatabaseFact]
    public async Task CopyingAgainResumesAndDuplicatesNothing()
    {
        var path = LegacyFileWithoutOrphans();
        Assert.Equal(ExitCodes.Ok, (await CopyAsync(path)).ExitCode);
        var counts = Counts();

        var again = await CopyAsync(path);

        Assert.True(again.ExitCode == ExitCodes.Ok, again.Output + again.Error);
        Assert.Equal(counts, Counts());
    }

    [DatabaseFact]
    public async Task ServedRowsWithoutTheirRequestAreReportedAndNothingIsCopied()
    {
        var path = LegacyDatabaseBuilder.OldLayout().WithSampleData().Write(Path.Combine(_directory, "orphans.db"));

        var result = await CopyAsync(path);

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Contains("rows for 1 request ids with no feed_requests row (99)", result.Error);
        Assert.Equal(0, _target.Count("SELECT count(*) FROM feed_requests"));
    }

    [DatabaseFact]
    public async Task ADatabaseHoldingOtherDataIsRefused()
    {
        using (var service = new PostServiceFactory(database: _target))
        {
            (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithId(424242).WithPosts(2)))).EnsureSuccessStatusCode();
        }

        var result = await CopyAsync(LegacyFileWithoutOrphans());

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Contains("already holds rows", result.Error);
        Assert.Equal(1, _target.Count("SELECT count(*) FROM feed_requests"));
    }

    [DatabaseFact]
    public async Task TheAnalyticsTablesAreCopiedWithTheRest()
    {
        await using var appView = await FakeAppView.StartAsync();
        var uri = RetrievalBuilder.PostUri("analysed");
        appView.AddPost(uri, post => post.WithImages(1) with { RecordTags = ["science"], LikeCount = 3 });
        using var file = TestDatabase.Create(DatabaseProvider.Sqlite);
        using (var service = HydratingService.Start(appView, database: file))
        {
            var client = service.CreateClient();
            (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().At(DbTime.ToText(DateTimeOffset.UtcNow)).WithPost(uri, 0)))).EnsureSuccessStatusCode();
            await Eventually.TrueAsync(() => service.Count("SELECT count(*) FROM post_media") == 1, "the post is hydrated with its media");
            (await client.PostAsync("/tags", new { name = "reviewed" }.AsJson())).EnsureSuccessStatusCode();
            (await client.PutAsync($"/posts/{Uri.EscapeDataString(uri)}/tags/reviewed", new { confidence = 0.5 }.AsJson())).EnsureSuccessStatusCode();
        }
        Assert.Equal(ExitCodes.Ok, (await CliRunner.RunAsync(["rebuild-hashtag-stats", "--db", file.Path!])).ExitCode);

        var result = await CopyAsync(file.Path!);

        Assert.True(result.ExitCode == ExitCodes.Ok, result.Output + result.Error);
        using var fromFile = new PostServiceFactory(database: file);
        using var fromPostgres = new PostServiceFactory(database: _target);
        foreach (var page in (string[])["/tags", "/tags/reviewed/posts", $"/posts/{Uri.EscapeDataString(uri)}", $"/posts/{Uri.EscapeDataString(uri)}/metrics",
                     "/hashtags/science/posts"])
        {
            Assert.Equal(Comparable(await fromFile.CreateClient().GetOkJsonAsync(page)), Comparable(await fromPostgres.CreateClient().GetOkJsonAsync(page)));
        }
        foreach (var table in (string[])["ingest_events", "post_metric_snapshots", "hashtags", "post_hashtags", "hashtag_hourly_stats", "post_media", "post_tags"])
        {
            Assert.True(_target.Count($"SELECT count(*) FROM {table}") > 0, $"{table} was copied");
        }
        using var source = file.Open();
        using var target = _target.Open();
        Assert.Equal(source.QuerySingle<byte[]>("SELECT body FROM ingest_events"), target.QuerySingle<byte[]>("SELECT body FROM ingest_events"));
    }

    private string Counts() => string.Join(",", ((string[])["feed_requests", "feed_request_posts", "posts", "hydration_runs"])
        .Select(table => _target.Count($"SELECT count(*) FROM {table}")));

    /// <summary>
    /// The answer with the stored item JSON parsed and times as instants: SQLite returns both as the older tool wrote
    /// them, PostgreSQL as jsonb text (same values, other spacing) and timestamptz (same instant, UTC). An item that was
    /// not JSON at all is a JSON string in PostgreSQL, its text in SQLite.
    /// </summary>
    private static string Comparable(JsonElement answer) => JsonSerializer.Serialize(Normalize(answer));

    private static object? Normalize(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().ToDictionary(property => property.Name, property =>
            property.Value.ValueKind != JsonValueKind.String ? Normalize(property.Value)
                : property.Name is "post_json" ? ParsedOrText(property.Value.GetString()!)
                : property.Name is "timestamp" || property.Name.EndsWith("_at", StringComparison.Ordinal) ? Instant(property.Value.GetString()!)
                : property.Value.GetString()),
        JsonValueKind.Array => element.EnumerateArray().Select(Normalize).ToList(),
        _ => element.Clone(),
    };

    private static string Instant(string time) =>
        DbTime.TryParse(time, out var instant) ? DbTime.ToText(instant) : time;

    private static object? ParsedOrText(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var parsed = Normalize(document.RootElement);
            return parsed is JsonElement { ValueKind: JsonValueKind.String } text ? text.GetString() : parsed;
        }
        catch (JsonException)
        {
            return json;
        }
    }
}
