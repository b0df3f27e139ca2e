using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Logging;
using PostService.Storage;
using PostService.Tests.Infrastructure;
using Xunit.Abstractions;

namespace PostService.Tests.Ingestion;

/// <summary>
/// Random mutations of valid batches, from a fixed seed (POSTSERVICE_FUZZ_SEED picks another; every failure names
/// the seed and the iteration). Invariants: every answer is 2xx or 4xx, never 5xx; nothing is logged as an error; the
/// database holds exactly the accepted batches, each request with the posts of the body that was accepted last.
/// </summary>
public abstract class IngestionFuzzTests(DatabaseProvider provider, ITestOutputHelper output)
{
    public sealed class OnSqlite(ITestOutputHelper output) : IngestionFuzzTests(DatabaseProvider.Sqlite, output);

    public sealed class OnPostgres(ITestOutputHelper output) : IngestionFuzzTests(DatabaseProvider.Postgres, output), IRunsOnPostgres;

    private const int DefaultSeed = 7_2025;
    private const int Iterations = 500;

    private sealed record ExpectedRequest(string PostsJson, long PostRows);

    [DatabaseFact]
    public async Task MutatedBatchesNeverCauseA5xxAndOnlyWholeBatchesAreStored()
    {
        var seed = Environment.GetEnvironmentVariable("POSTSERVICE_FUZZ_SEED") is { Length: > 0 } given
            ? int.Parse(given, CultureInfo.InvariantCulture)
            : DefaultSeed;
        output.WriteLine($"seed {seed} (set POSTSERVICE_FUZZ_SEED to repeat or vary it)");
        using var service = new PostServiceFactory(new Dictionary<string, string?>
        {
            // Small limits, so that mutations reach them too.
            ["PostService:Ingestion:MaxRetrievalsPerBatch"] = "5",
            ["PostService:Ingestion:MaxPostsPerRetrieval"] = "8",
            ["PostService:Ingestion:MaxBodyBytes"] = "32768",
        }, provider: provider);
        var client = service.CreateClient();
        var mutator = new BatchMutator(seed);
        var expected = new Dictionary<long, ExpectedRequest>();
        var statuses = new SortedDictionary<int, int>();

        for (var iteration = 0; iteration < Iterations; iteration++)
        {
            var body = mutator.Next();
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            var response = await client.PostAsync("/feed-retrievals", content);
            var status = (int)response.StatusCode;
            var answer = await response.Content.ReadAsStringAsync();
            statuses[status] = statuses.GetValueOrDefault(status) + 1;

            var context = $"seed {seed}, iteration {iteration}: {status} {answer}\nbody: {BatchMutator.Show(body)}";
            Assert.True(status is 200 or (>= 400 and < 500), context);
            if (status == 200)
            {
                Accept(body, expected);
            }
            else
            {
                Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", context);
            }
        }
        output.WriteLine("answers: " + string.Join(", ", statuses.Select(pair => $"{pair.Key} x{pair.Value}")));

        Assert.Empty(service.Logs.Entries.Where(entry => entry.Level >= LogLevel.Error).Select(entry => $"seed {seed}: {entry}"));
        Assert.True(statuses.GetValueOrDefault(200) > Iterations / 10, $"seed {seed}: too few batches accepted to check storage: {statuses.GetValueOrDefault(200)}");
        using var db = service.OpenDatabase();
        var stored = db.Query<(long RequestId, string PostsJson, long PostRows)>("""
            SELECT request_id, CAST(posts_json AS TEXT), (SELECT count(*) FROM feed_request_posts p WHERE p.request_id = r.request_id)
            FROM feed_requests r
            """).ToDictionary(row => row.RequestId, row => new ExpectedRequest(row.PostsJson, row.PostRows));
        // SQLite keeps the text as sent; PostgreSQL keeps jsonb, compared in its own canonical text.
        var expectedAsStored = expected.ToDictionary(pair => pair.Key, pair => provider == DatabaseProvider.Postgres
            ? pair.Value with { PostsJson = db.ExecuteScalar<string>("SELECT CAST(CAST(@Json AS jsonb) AS TEXT)", new { Json = pair.Value.PostsJson })! }
            : pair.Value);
        Assert.Equal(expectedAsStored.OrderBy(pair => pair.Key), stored.OrderBy(pair => pair.Key));
        Assert.Equal(0, db.ExecuteScalar<long>("SELECT count(*) FROM feed_request_posts f WHERE post_uri IS NOT NULL AND NOT EXISTS (SELECT 1 FROM posts p WHERE p.post_uri = f.post_uri)"));
        Assert.Equal(0, db.ExecuteScalar<long>("SELECT count(*) FROM feed_request_posts f WHERE NOT EXISTS (SELECT 1 FROM feed_requests r WHERE r.request_id = f.request_id)"));
    }

    /// <summary>
    /// What an accepted body must leave behind, by the documented rules: each id holds the posts array of its last
    /// accepted copy verbatim, one row per distinct URI plus one per item without a URI.
    /// </summary>
    private static void Accept(byte[] body, Dictionary<long, ExpectedRequest> expected)
    {
        using var document = JsonDocument.Parse(body);
        foreach (var retrieval in FirstPresent(document.RootElement, "retrievals", "compliance")!.Value.EnumerateArray())
        {
            var posts = FirstPresent(retrieval, "posts");
            var uris = posts?.EnumerateArray().Select(post => FirstPresent(post, "uri", "postUri")?.GetString()).ToList() ?? [];
            var rows = uris.Count(string.IsNullOrEmpty) + uris.Where(uri => !string.IsNullOrEmpty(uri)).Distinct().Count();
            expected[retrieval.GetProperty("id").GetInt64()] = new ExpectedRequest(posts?.GetRawText() ?? "[]", rows);
        }
    }

    private static JsonElement? FirstPresent(JsonElement element, params string[] names) =>
        names.Select(name => element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : (JsonElement?)null)
            .FirstOrDefault(value => value is not null);
}
