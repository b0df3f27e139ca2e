using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;

namespace PostService.Bench;

/// <summary>
/// Time from the acknowledgement of <c>POST /feed-retrievals</c> to <c>ok</c> for each newly seen URI, with the
/// service under its budget, default linger and the fake AppView's latency (bar: p95 under 2 s). Feed traffic
/// arrives at <c>--rate</c> retrievals per second; each new URI's row is polled through <c>GET /posts/{uri}</c>.
/// </summary>
public static class TimeToHydrateBenchmark
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(25);

    public static async Task<int> RunAsync(Arguments arguments)
    {
        var retrievals = arguments.Int("retrievals", 120);
        var rate = arguments.Double("rate", 2);
        var workload = new Workload(retrievals * Workload.PostsPerRetrieval, arguments.Double("fresh", Workload.DefaultFreshShare));
        var traffic = workload.Retrievals(retrievals).ToList();

        await using var appView = await BenchAppView.StartAsync(arguments, BenchAppView.Served(workload.PoolSize));
        await using var service = await ServiceProcess.StartAsync(new Dictionary<string, string?>(BenchDatabase.Sqlite().Fresh())
        {
            ["PostService:AppView:BaseUrl"] = appView.BaseUrl,
        });

        var acknowledged = new Dictionary<string, TimeSpan>(StringComparer.Ordinal); // URI -> when its first request was acknowledged
        var settled = new Dictionary<string, (TimeSpan After, string Status)>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();
        using var sending = new CancellationTokenSource();
        var poller = PollAsync(service, acknowledged, settled, clock, sending.Token);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < traffic.Count; i++)
        {
            var due = TimeSpan.FromSeconds(i / rate) - clock.Elapsed;
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due);
            }
            using var content = new ByteArrayContent(Workload.RequestBody([traffic[i]]));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await service.Client.PostAsync("/feed-retrievals", content);
            response.EnsureSuccessStatusCode();
            var at = clock.Elapsed;
            lock (acknowledged)
            {
                foreach (var uri in traffic[i].Uris.Where(seen.Add))
                {
                    acknowledged[uri] = at;
                }
            }
        }
        await Task.WhenAny(WaitUntilSettledAsync(acknowledged, settled), Task.Delay(TimeSpan.FromSeconds(60)));
        await sending.CancelAsync();
        await poller;

        var ok = settled.Where(entry => entry.Value.Status == "ok").Select(entry => (entry.Value.After - acknowledged[entry.Key]).TotalMilliseconds).ToList();
        var unsettled = acknowledged.Count - settled.Count;
        var p = new Percentiles(ok);
        Console.WriteLine($"traffic      {retrievals} retrievals at {rate} per second, {acknowledged.Count:N0} new URIs; {BenchAppView.Describe(arguments)}");
        Console.WriteLine($"service      defaults: linger 250 ms, 4 calls in flight, budget 3000 calls / 300 s (used {appView.Calls.Count} calls)");
        Console.WriteLine($"to ok        p50 {p.At(0.5):F0} ms   p95 {p.At(0.95):F0} ms   max {p.Max:F0} ms   ({p.Count:N0} URIs; polled every {PollInterval.TotalMilliseconds:F0} ms)   (bar p95 < 2000 ms)");
        Console.WriteLine($"other        {settled.Count - ok.Count} not found (unknown to the AppView), {unsettled} not settled within 60 s");
        BenchHost.PrintFigures(("new_uris", acknowledged.Count), ("ok", p.Count), ("p50_ms", Math.Round(p.At(0.5))), ("p95_ms", Math.Round(p.At(0.95))),
            ("max_ms", Math.Round(p.Max)), ("unsettled", unsettled), ("appview_calls", appView.Calls.Count));
        return 0;
    }

    /// <summary>Every tick, asks for each acknowledged URI not yet settled; records when it is first seen <c>ok</c> or <c>not_found</c>.</summary>
    private static async Task PollAsync(
        ServiceProcess service, Dictionary<string, TimeSpan> acknowledged, Dictionary<string, (TimeSpan, string)> settled, Stopwatch clock, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            List<string> open;
            lock (acknowledged)
            {
                open = acknowledged.Keys.Where(uri => !settled.ContainsKey(uri)).ToList();
            }
            foreach (var uri in open)
            {
                using var response = await service.Client.GetAsync("/posts/" + Uri.EscapeDataString(uri), CancellationToken.None);
                using var post = JsonDocument.Parse(await response.Content.ReadAsStringAsync(CancellationToken.None));
                var status = post.RootElement.GetProperty("hydration_status").GetString()!;
                if (status is "ok" or "not_found")
                {
                    lock (acknowledged)
                    {
                        settled[uri] = (clock.Elapsed, status);
                    }
                }
            }
            try
            {
                await Task.Delay(PollInterval, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static async Task WaitUntilSettledAsync(Dictionary<string, TimeSpan> acknowledged, Dictionary<string, (TimeSpan, string)> settled)
    {
        while (true)
        {
            lock (acknowledged)
            {
                if (settled.Count == acknowledged.Count)
                {
                    return;
                }
            }
            await Task.Delay(PollInterval);
        }
    }
}
