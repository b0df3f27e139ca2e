using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using PostService.Ingestion;

namespace PostService.Bench;

/// <summary>
/// Ingestion throughput: served posts stored per second through <c>POST /feed-retrievals</c> on the real service
/// (its own process, Kestrel on loopback) with several concurrent clients, against the ceiling measured in the same
/// run: the same rows stored in-process by the same ingestor, in transactions of 1,000 retrievals, on a fresh
/// database with the same schema and durability settings (bar: HTTP at least 70% of the ceiling).
/// </summary>
public static class IngestBenchmark
{
    private const int CeilingRetrievalsPerTransaction = 1_000;

    public static async Task<int> RunAsync(Arguments arguments)
    {
        var requests = arguments.Int("requests", 2_000);
        var perRequest = arguments.Int("batch", 10);
        var clients = arguments.Int("clients", 8);
        var freshShare = arguments.Double("fresh", Workload.DefaultFreshShare);
        var database = BenchDatabase.From(arguments);
        var servedPosts = (long)requests * perRequest * Workload.PostsPerRetrieval;
        var workload = new Workload((int)Math.Max(Workload.PostsPerRetrieval, servedPosts * freshShare * 2), freshShare);
        var bodies = workload.Requests(requests, perRequest);

        var ceiling = await MeasureCeilingAsync(database, bodies);
        var http = await MeasureHttpAsync(database, bodies, clients);
        if (http.PostRows != ceiling.PostRows)
        {
            throw new InvalidOperationException($"HTTP stored {http.PostRows} post rows, the ceiling {ceiling.PostRows}: not the same rows.");
        }
        var ratio = http.PostsPerSecond / ceiling.PostsPerSecond;

        Console.WriteLine($"workload     {requests:N0} requests x {perRequest} retrievals x {Workload.PostsPerRetrieval} posts = {http.PostRows:N0} served posts, {workload.Issued:N0} distinct ({freshShare:P0} fresh)");
        Console.WriteLine($"database     {database.Description}");
        Console.WriteLine($"ceiling      {ceiling.PostsPerSecond,10:N0} posts/s   in-process ingestor, {CeilingRetrievalsPerTransaction} retrievals per transaction, {ceiling.Seconds:F1} s");
        Console.WriteLine($"http         {http.PostsPerSecond,10:N0} posts/s   {clients} clients, {perRequest} retrievals per request, {http.Seconds:F1} s, request p50 {http.Latency.At(0.5):F1} ms p99 {http.Latency.At(0.99):F1} ms");
        Console.WriteLine($"ratio        {ratio,10:P1}         (bar 70%)");
        BenchHost.PrintFigures(("provider", database.Provider), ("served_posts", http.PostRows), ("clients", clients), ("batch", perRequest),
            ("ceiling_posts_per_s", Math.Round(ceiling.PostsPerSecond)), ("http_posts_per_s", Math.Round(http.PostsPerSecond)),
            ("ratio_pct", Math.Round(ratio * 100, 1)), ("request_p50_ms", Math.Round(http.Latency.At(0.5), 1)),
            ("request_p99_ms", Math.Round(http.Latency.At(0.99), 1)));
        return 0;
    }

    private sealed record Throughput(long PostRows, double Seconds, Percentiles Latency)
    {
        public double PostsPerSecond => PostRows / Seconds;
    }

    /// <summary>The same bodies, parsed before the clock starts, stored by the service's ingestor without HTTP or JSON.</summary>
    private static async Task<Throughput> MeasureCeilingAsync(BenchDatabase database, List<byte[]> bodies)
    {
        var limits = new IngestionOptions();
        var retrievals = bodies.SelectMany(body =>
        {
            using var document = JsonDocument.Parse(body);
            return RetrievalBatchParser.Parse(document.RootElement, limits).Batch!.Retrievals;
        }).ToList();

        using var host = await BenchHost.StartAsync(database.Fresh());
        var ingestor = host.Services.GetRequiredService<RetrievalIngestor>();
        var timings = new List<double>();
        long postRows = 0;
        var clock = Stopwatch.StartNew();
        foreach (var chunk in retrievals.Chunk(CeilingRetrievalsPerTransaction))
        {
            var started = clock.Elapsed;
            // Chunks regroup several bodies, so there is no request body to log: the ceiling of storing the rows alone.
            postRows += (await ingestor.ReplayAsync(new RetrievalBatch(chunk, IdenticalCopies: 0), DateTimeOffset.UtcNow, CancellationToken.None)).PostRows;
            timings.Add((clock.Elapsed - started).TotalMilliseconds);
        }
        return new Throughput(postRows, clock.Elapsed.TotalSeconds, new Percentiles(timings));
    }

    /// <summary><paramref name="clients"/> concurrent connections, each posting the next body as soon as the previous one is acknowledged.</summary>
    private static async Task<Throughput> MeasureHttpAsync(BenchDatabase database, List<byte[]> bodies, int clients)
    {
        await using var service = await ServiceProcess.StartAsync(new Dictionary<string, string?>(database.Fresh())
        {
            ["PostService:Hydration:Enabled"] = "false", // as in the ceiling: storing only
        });
        var next = -1;
        long postRows = 0;
        var timings = new double[bodies.Count];
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < bodies.Count)
            {
                var started = clock.Elapsed;
                using var content = new ByteArrayContent(bodies[index]);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var response = await service.Client.PostAsync("/feed-retrievals", content);
                var text = await response.Content.ReadAsStringAsync();
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"POST /feed-retrievals answered {(int)response.StatusCode}: {text}");
                }
                timings[index] = (clock.Elapsed - started).TotalMilliseconds;
                using var acknowledgement = JsonDocument.Parse(text);
                Interlocked.Add(ref postRows, acknowledgement.RootElement.GetProperty("post_rows").GetInt64());
            }
        }));
        clock.Stop();
        return new Throughput(postRows, clock.Elapsed.TotalSeconds, new Percentiles(timings));
    }
}
