using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;

namespace PostService.Bench;

/// <summary>
/// Peak resident memory of the service process (VmHWM) while it ingests <c>--posts</c> distinct posts and drains the
/// hydration backlog they make against the fake AppView, with a budget large enough not to hold it back (bar: under
/// 300 MB, and nothing growing with the backlog). RSS and backlog are sampled every second and shown over time.
/// </summary>
public static class MemoryBenchmark
{
    private const int LowLatencyMs = 5;
    private const int TableRows = 24;

    private sealed record Sample(TimeSpan At, long ServedPosts, long Pending, ResidentMemory Memory);

    public static async Task<int> RunAsync(Arguments arguments)
    {
        var posts = arguments.Int("posts", 1_000_000);
        var perRequest = arguments.Int("batch", 10);
        var clients = arguments.Int("clients", 4);
        var workload = new Workload(posts, arguments.Double("fresh", 0.5));

        var setup = Stopwatch.StartNew();
        await using var appView = await BenchAppView.StartAsync(arguments, BenchAppView.Served(posts), LowLatencyMs);
        Console.WriteLine($"setup        fake AppView holds {posts:N0} posts ({setup.Elapsed.TotalSeconds:F0} s)");
        await using var service = await ServiceProcess.StartAsync(new Dictionary<string, string?>(BenchDatabase.Sqlite().Fresh())
        {
            ["PostService:AppView:BaseUrl"] = appView.BaseUrl,
            ["PostService:AppView:RetryBaseDelayMs"] = "5",
            ["PostService:Hydration:BudgetCalls"] = "1000000",
            ["PostService:Hydration:BudgetWindowSeconds"] = "60",
            ["PostService:Hydration:MaxInFlight"] = arguments.Int("in-flight", 8).ToString(),
        });
        var atStart = service.Memory();

        var clock = Stopwatch.StartNew();
        var samples = new List<Sample>();
        long servedPosts = 0;
        var traffic = workload.RetrievalsUntilIssued(posts).Chunk(perRequest).GetEnumerator();
        var ingestion = Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            while (true)
            {
                SyntheticRetrieval[] batch;
                lock (traffic)
                {
                    if (!traffic.MoveNext())
                    {
                        return;
                    }
                    batch = traffic.Current;
                }
                using var content = new ByteArrayContent(Workload.RequestBody(batch));
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var response = await service.Client.PostAsync("/feed-retrievals", content);
                response.EnsureSuccessStatusCode();
                Interlocked.Add(ref servedPosts, batch.Sum(retrieval => retrieval.Uris.Count));
            }
        }));
        TimeSpan? ingested = null;
        while (true)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            using var coverage = JsonDocument.Parse(await service.Client.GetStringAsync("/hydration/coverage"));
            var pending = coverage.RootElement.GetProperty("by_status").GetProperty("pending").GetInt64();
            samples.Add(new Sample(clock.Elapsed, Interlocked.Read(ref servedPosts), pending, service.Memory()));
            if (ingestion.IsCompleted)
            {
                await ingestion; // surfaces a failed request
                ingested ??= clock.Elapsed;
                if (pending == 0)
                {
                    break;
                }
            }
        }

        var peak = samples[^1].Memory.PeakMiB;
        var atMaxBacklog = samples.MaxBy(sample => sample.Pending)!;
        Console.WriteLine($"workload     {samples[^1].ServedPosts:N0} served posts, {posts:N0} distinct, {clients} clients x {perRequest} retrievals per request; {BenchAppView.Describe(arguments, LowLatencyMs)}, budget 1,000,000 calls / 60 s");
        Console.WriteLine($"{"time",7} {"served posts",14} {"backlog",10} {"RSS MiB",9}");
        var step = Math.Max(1, samples.Count / TableRows);
        foreach (var sample in samples.Where((_, i) => i % step == 0 || i == samples.Count - 1))
        {
            Console.WriteLine($"{sample.At.TotalSeconds,6:F0}s {sample.ServedPosts,14:N0} {sample.Pending,10:N0} {sample.Memory.RssMiB,9:F0}");
        }
        Console.WriteLine($"ingested in {ingested!.Value.TotalSeconds:F0} s, backlog drained in {clock.Elapsed.TotalSeconds:F0} s; RSS at start {atStart.RssMiB:F0} MiB, at the largest backlog ({atMaxBacklog.Pending:N0}) {atMaxBacklog.Memory.RssMiB:F0} MiB, at the end {samples[^1].Memory.RssMiB:F0} MiB");
        Console.WriteLine($"peak RSS     {peak:F0} MiB (VmHWM)   (bar < 300 MB = 286 MiB)");
        BenchHost.PrintFigures(("posts", posts), ("served_posts", samples[^1].ServedPosts), ("ingest_s", Math.Round(ingested.Value.TotalSeconds)),
            ("drain_s", Math.Round(clock.Elapsed.TotalSeconds)), ("max_backlog", atMaxBacklog.Pending), ("rss_start_mib", Math.Round(atStart.RssMiB)),
            ("rss_at_max_backlog_mib", Math.Round(atMaxBacklog.Memory.RssMiB)), ("rss_end_mib", Math.Round(samples[^1].Memory.RssMiB)),
            ("peak_rss_mib", Math.Round(peak)));
        return 0;
    }
}
