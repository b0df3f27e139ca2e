using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Json;
using Dapper;
using Microsoft.Data.Sqlite;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;
using Xunit.Abstractions;

namespace PostService.Tests.Resilience;

/// <summary>
/// The real process, killed with SIGKILL at random moments while several clients ingest and the worker hydrates:
/// nothing it acknowledged is lost, nothing is half-stored, and after the last restart every valid URI is hydrated.
/// The seed is printed; <c>POSTSERVICE_CRASH_SEED</c> replays a run's kill times and retrievals.
/// </summary>
public sealed class CrashSafetyTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Kills = 20;
    private const int Clients = 3;

    private readonly string _directory = TempDirectory.Create();
    private readonly ConcurrentDictionary<long, IReadOnlyList<string>> _sent = new();
    private readonly ConcurrentBag<long> _acknowledged = [];
    private readonly ConcurrentBag<string> _refused = [];
    private FakeAppView _appView = null!;
    private List<string> _pool = [];
    private long _lastId;

    public async Task InitializeAsync()
    {
        _appView = await FakeAppView.StartAsync();
        // A little latency keeps calls in flight, so some kills land while results are being written.
        _appView.Latency = TimeSpan.FromMilliseconds(30);
        _pool = Enumerable.Range(0, 400).Select(i => _appView.AddPost(RetrievalBuilder.PostUri($"k{i}", $"did:plc:author{i % 17}")).Uri).ToList();
    }

    public async Task DisposeAsync()
    {
        await _appView.DisposeAsync();
        SqliteConnection.ClearAllPools();
        TempDirectory.Delete(_directory);
    }

    [Fact]
    public async Task KilledAtRandomMomentsWhileIngestingAndHydratingTheServiceLosesNothingItAcknowledged()
    {
        var seed = Environment.GetEnvironmentVariable("POSTSERVICE_CRASH_SEED") is { } fixedSeed
            ? int.Parse(fixedSeed, CultureInfo.InvariantCulture)
            : Random.Shared.Next();
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var database = Path.Combine(_directory, "compliance.db");
        var settings = HydratingService.Settings(_appView, new Dictionary<string, string?> { ["PostService:Database:Path"] = database });

        for (var kill = 0; kill < Kills; kill++)
        {
            await using var service = await ServiceProcess.StartAsync(settings);
            var clients = Enumerable.Range(0, Clients).Select(_ => IngestUntilKilledAsync(service, new Random(random.Next()))).ToArray();
            await Task.Delay(random.Next(50, 1_500));
            await service.KillAsync();
            await Task.WhenAll(clients);
        }
        await using var last = await ServiceProcess.StartAsync(settings);
        await Eventually.TrueAsync(() => Count(database, "SELECT count(*) FROM posts WHERE hydration_status NOT IN ('ok', 'invalid')") == 0,
            "every valid URI is hydrated after the last restart", TimeSpan.FromSeconds(90));

        output.WriteLine($"{_sent.Count} retrievals sent, {_acknowledged.Count} acknowledged, {Kills} kills");
        Assert.Empty(_refused);
        Assert.True(_acknowledged.Count >= Kills, $"only {_acknowledged.Count} retrievals were acknowledged: the test ingested too little");
        using var db = DatabaseDump.Open(database);
        var stored = db.Query<(long RequestId, long PostIndex, string PostUri)>("SELECT request_id, post_index, post_uri FROM feed_request_posts")
            .ToLookup(row => row.RequestId, row => (row.PostIndex, row.PostUri));
        var requests = db.Query<long>("SELECT request_id FROM feed_requests").ToHashSet();
        Assert.All(_acknowledged, id => Assert.Contains(id, requests));
        // Stored ones include retrievals whose answer the kill cut off; whatever is there is there whole.
        Assert.All(requests, id => Assert.Equal(
            _sent[id].Select((uri, index) => ((long)index, uri)).Order(),
            stored[id].Order()));
        var servedUris = stored.SelectMany(rows => rows.Select(row => row.PostUri)).ToHashSet();
        Assert.Equal(servedUris.Order(StringComparer.Ordinal), db.Query<string>("SELECT post_uri FROM posts ORDER BY post_uri"));
        Assert.Empty(db.Query<string>("SELECT post_uri FROM posts WHERE hydration_status = 'ok' AND cid IS NULL"));
        Assert.All(db.Query<string>("SELECT post_uri FROM posts WHERE hydration_status = 'invalid'"), uri => Assert.StartsWith("not-a-uri", uri));
    }

    /// <summary>Posts batches of 1-3 retrievals until the service dies; what was sent is noted before sending.</summary>
    private async Task IngestUntilKilledAsync(ServiceProcess service, Random random)
    {
        using var client = service.CreateClient();
        while (true)
        {
            var retrievals = Enumerable.Range(0, random.Next(1, 4)).Select(_ => NewRetrieval(random)).ToArray();
            try
            {
                var response = await client.PostAsJsonAsync("/feed-retrievals", RetrievalBuilder.Batch(retrievals));
                if (!response.IsSuccessStatusCode)
                {
                    _refused.Add($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                    continue;
                }
                foreach (var retrieval in retrievals)
                {
                    _acknowledged.Add(retrieval.Id);
                }
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
            {
                return; // killed
            }
        }
    }

    private RetrievalBuilder NewRetrieval(Random random)
    {
        var id = Interlocked.Increment(ref _lastId);
        var uris = _pool.OrderBy(_ => random.Next()).Take(random.Next(1, 40)).ToList();
        if (random.Next(5) == 0)
        {
            uris.Insert(random.Next(uris.Count), $"not-a-uri-{id}");
        }
        _sent[id] = uris;
        var retrieval = new RetrievalBuilder().WithId(id);
        for (var index = 0; index < uris.Count; index++)
        {
            retrieval.WithPost(uris[index], index);
        }
        return retrieval;
    }

    private static long Count(string database, string sql)
    {
        using var connection = DatabaseDump.Open(database);
        return connection.ExecuteScalar<long>(sql);
    }
}
