using System.Net;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.Data.Sqlite;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Resilience;

/// <summary>SIGTERM to the real process: it stops accepting, finishes what is in flight, records it, and exits 0.</summary>
public sealed class GracefulShutdownTests : IAsyncLifetime
{
    private readonly string _directory = TempDirectory.Create();
    private FakeAppView _appView = null!;

    public async Task InitializeAsync() => _appView = await FakeAppView.StartAsync();

    public async Task DisposeAsync()
    {
        await _appView.DisposeAsync();
        SqliteConnection.ClearAllPools();
        TempDirectory.Delete(_directory);
    }

    [Fact]
    public async Task SigtermFinishesTheRequestAndTheAppViewCallInFlightRecordsThemAndExitsZero()
    {
        var hydrating = Enumerable.Range(0, 10).Select(i => _appView.AddPost(RetrievalBuilder.PostUri($"g{i}")).Uri).ToList();
        _appView.Latency = TimeSpan.FromSeconds(3);
        var database = Path.Combine(_directory, "compliance.db");
        await using var service = await ServiceProcess.StartAsync(HydratingService.Settings(_appView, new Dictionary<string, string?>
        {
            ["PostService:Database:Path"] = database,
            ["PostService:AppView:AttemptTimeoutSeconds"] = "30",
            ["PostService:Shutdown:GracePeriodSeconds"] = "60",
        }));
        using var client = service.CreateClient();
        var first = new RetrievalBuilder();
        hydrating.ForEach(uri => first.WithPost(uri));
        (await client.PostAsync("/feed-retrievals", Json(RetrievalBuilder.Batch(first)))).EnsureSuccessStatusCode();
        await Eventually.TrueAsync(() => _appView.Calls.Count == 1, "the worker's getPosts call is in flight");

        // A request whose body is still arriving when the signal comes.
        var late = new RetrievalBuilder().WithPosts(3, "late");
        var slowBody = new HeldBackContent(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(RetrievalBuilder.Batch(late))));
        var slowPost = client.PostAsync("/feed-retrievals", slowBody);
        await slowBody.FirstPartSent;
        await Task.Delay(TimeSpan.FromSeconds(1)); // for the service to read the request line and headers
        await service.SignalTerminateAsync();
        await Eventually.TrueAsync(() => !Accepts(service.BaseUrl), "the service stops accepting connections");
        slowBody.SendTheRest();
        var slowResponse = await slowPost;
        var exitCode = await service.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(0, exitCode);
        Assert.True(slowResponse.IsSuccessStatusCode, $"the request in flight got {(int)slowResponse.StatusCode}\n{service.Output}");
        Assert.Equal(200, Assert.Single(_appView.Calls).Status); // finished, not abandoned; and no new call after the signal
        using var db = DatabaseDump.Open(database);
        Assert.All(hydrating, uri => Assert.Equal("ok", db.ExecuteScalar<string>("SELECT hydration_status FROM posts WHERE post_uri = @uri", new { uri })));
        Assert.Equal(3, db.ExecuteScalar<long>("SELECT count(*) FROM feed_request_posts WHERE request_id = @Id", new { late.Id }));
        Assert.Equal(3, db.ExecuteScalar<long>("SELECT count(*) FROM posts WHERE hydration_status = 'pending'"));
        Assert.Equal("completed", db.ExecuteScalar<string>("SELECT status FROM hydration_runs ORDER BY run_id DESC LIMIT 1"));
    }

    private static StringContent Json(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    private static bool Accepts(string baseUrl)
    {
        using var fresh = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            return fresh.GetAsync(baseUrl + "/healthz").Result.StatusCode == HttpStatusCode.OK;
        }
        catch (AggregateException)
        {
            return false;
        }
    }

    /// <summary>A JSON body sent in two parts: the second only when the test says so.</summary>
    private sealed class HeldBackContent(byte[] body) : HttpContent
    {
        private readonly TaskCompletionSource _firstPartSent = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _sendTheRest = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task FirstPartSent => _firstPartSent.Task;

        public void SendTheRest() => _sendTheRest.TrySetResult();

        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            var half = body.Length / 2;
            await stream.WriteAsync(body.AsMemory(0, half));
            await stream.FlushAsync();
            _firstPartSent.TrySetResult();
            await _sendTheRest.Task;
            await stream.WriteAsync(body.AsMemory(half));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = body.Length;
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            return true;
        }
    }
}
