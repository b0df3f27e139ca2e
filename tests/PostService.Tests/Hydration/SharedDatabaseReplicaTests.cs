using System.Net.Http.Json;
using PostService.Storage;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Hydration;

/// <summary>
/// Several service processes on one PostgreSQL database, against one AppView: work is claimed, not broadcast, the
/// budget is shared, and a replica killed mid-run leaves its posts to the others once its claims run out.
/// </summary>
public sealed class SharedDatabaseReplicaTests : IRunsOnPostgres, IAsyncLifetime
{
    private const int Backlog = 10_000;
    private const int BudgetCalls = 40;
    private static readonly TimeSpan BudgetWindow = TimeSpan.FromSeconds(2);
    private const int MaxInFlight = 4;

    private FakeAppView _appView = null!;
    private TestDatabase _database = null!;

    public async Task InitializeAsync()
    {
        _appView = await FakeAppView.StartAsync();
        _database = TestDatabase.Create(DatabaseProvider.Postgres);
    }

    public async Task DisposeAsync()
    {
        await _appView.DisposeAsync();
        _database.Dispose();
    }

    [DatabaseFact]
    public async Task ThreeReplicasHydrateABacklogOnceWithinOneBudgetAndLoseNothingWhenOneIsKilled()
    {
        var uris = Enumerable.Range(0, Backlog).Select(i => RetrievalBuilder.PostUri($"replica{i:D5}", $"did:plc:author{i % 97}")).ToList();
        foreach (var uri in uris)
        {
            _appView.AddPost(uri);
        }
        _appView.Latency = TimeSpan.FromMilliseconds(20);
        var settings = new Dictionary<string, string?>(HydratingService.Settings(_appView, new Dictionary<string, string?>
        {
            ["PostService:Hydration:BudgetCalls"] = BudgetCalls.ToString(),
            ["PostService:Hydration:BudgetWindowSeconds"] = BudgetWindow.TotalSeconds.ToString(),
            ["PostService:Hydration:MaxInFlight"] = MaxInFlight.ToString(),
            ["PostService:Hydration:ClaimLeaseSeconds"] = "3",
            ["PostService:Hydration:LingerMs"] = "100",
        }));
        foreach (var (key, value) in _database.Settings)
        {
            settings[key] = value;
        }
        var replicas = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => ServiceProcess.StartAsync(settings)));
        try
        {
            // Every replica ingests a third of the backlog, all at once.
            var batches = uris.Chunk(30).Select((served, index) => (served, index)).GroupBy(batch => batch.index % replicas.Length).ToList();
            await Task.WhenAll(batches.Select(async group =>
            {
                using var client = replicas[group.Key].CreateClient();
                foreach (var chunk in group.Chunk(10))
                {
                    var body = RetrievalBuilder.Batch(chunk.Select(batch => batch.served.Select((uri, position) => (uri, position))
                        .Aggregate(new RetrievalBuilder().WithId(10_000 + batch.index), (retrieval, post) => retrieval.WithPost(post.uri, post.position))).ToArray());
                    (await client.PostAsJsonAsync("/feed-retrievals", body)).EnsureSuccessStatusCode();
                }
            }));
            Assert.Equal(Backlog, _database.Count("SELECT count(*) FROM posts"));

            await Eventually.TrueAsync(() => Hydrated() >= Backlog / 4, "a quarter of the backlog is hydrated", TimeSpan.FromSeconds(120));
            var callsBeforeKill = _appView.Calls.Count;
            await replicas[0].KillAsync();

            await Eventually.TrueAsync(() => Hydrated() == Backlog, "the two remaining replicas hydrate the rest", TimeSpan.FromSeconds(240));
            Assert.Equal(Backlog, _database.Count("SELECT count(*) FROM posts WHERE hydration_status = 'ok' AND author_did IS NOT NULL"));
            Assert.Empty(_appView.UrisInOverlappingCalls());
            Assert.InRange(_appView.CallsInAnyWindow(BudgetWindow), 1, BudgetCalls);
            // A URI is fetched twice only when the killed replica's answer was lost with it: at most its calls in flight.
            var fetchedTwice = _appView.Calls.SelectMany(call => call.Uris).GroupBy(uri => uri).Count(sent => sent.Count() > 1);
            Assert.InRange(fetchedTwice, 0, MaxInFlight * FakeAppView.MaxUrisPerCall);
            Assert.True(_appView.Calls.Count > callsBeforeKill, "the others went on after the kill");
            Assert.Equal(0, _database.Count("SELECT count(*) FROM posts WHERE claimed_by IS NOT NULL AND claimed_until > now()"));
        }
        finally
        {
            foreach (var replica in replicas)
            {
                await replica.DisposeAsync();
            }
        }

        long Hydrated() => _database.Count("SELECT count(*) FROM posts WHERE hydration_status = 'ok'");
    }
}
