using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using PostService.Tests.Infrastructure;

namespace PostService.Bench;

/// <summary>
/// The firehose consumer on a stream recorded from the real PDS (shared/realappview) and scaled up by rewriting DIDs,
/// replayed by a loopback WebSocket server. <c>firehose</c>: events applied per second at full speed, and the service's
/// RSS along the way. <c>firehose-hydrate</c>: with the stream paced like a live firehose, a feed serving posts written
/// minutes before: the share settled from the cache with no getPosts call, and how soon after acknowledgement.
/// </summary>
public static class FirehoseBenchmark
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);
    private const string DefaultRecording = "/tmp/postservice-bench/pds-firehose.frames";

    public static async Task<int> RunThroughputAsync(Arguments arguments)
    {
        var frames = await ScaledStreamAsync(arguments);
        await using var firehose = await FakeFirehose.StartAsync();
        firehose.Frames = frames.Select(frame => new FakeFrame(frame.Seq, frame.Bytes)).ToList();
        var database = BenchDatabase.From(arguments);
        await using var service = await ServiceProcess.StartAsync(new Dictionary<string, string?>(database.Fresh())
        {
            ["PostService:Hydration:Enabled"] = "false",
            ["PostService:Firehose:Enabled"] = "true",
            ["PostService:Firehose:Url"] = firehose.Url,
        });

        var clock = await ConnectedAsync(firehose);
        var last = frames[^1].Seq;
        var samples = new List<(TimeSpan At, long Applied, double RssMiB)>();
        JsonElement status;
        do
        {
            await Task.Delay(Poll);
            status = await service.Client.GetFromJsonAsync<JsonElement>("/firehose/status");
            samples.Add((clock.Elapsed, status.GetProperty("events_applied").GetInt64(), service.Memory().RssMiB));
            if (clock.Elapsed > TimeSpan.FromMinutes(10))
            {
                throw new TimeoutException($"only {samples[^1].Applied} of {frames.Count} events applied in 10 minutes");
            }
        }
        while (status.GetProperty("cursor").ValueKind != JsonValueKind.Number || status.GetProperty("cursor").GetInt64() < last);

        var elapsed = samples[^1].At.TotalSeconds;
        var perSecond = frames.Count / elapsed;
        var memory = service.Memory();
        var rssAt = new[] { 0.25, 0.5, 0.75, 1.0 }.Select(share => samples.First(sample => sample.Applied >= share * frames.Count).RssMiB).ToList();
        Console.WriteLine($"stream       {frames.Count:N0} events ({frames.Sum(frame => frame.PostUris.Count):N0} posts), {frames.Sum(frame => (long)frame.Bytes.Length) / 1024.0 / 1024.0:F1} MiB, " +
            $"{arguments.Int("copies", 50)} copies of the PDS recording; {database.Description}");
        Console.WriteLine($"applied      {perSecond:N0} events/s ({elapsed:F1} s from connection to the last cursor saved)   (goal >= 10,000/s); " +
            $"{status.GetProperty("events_applied").GetInt64():N0} applied, {status.GetProperty("frames_skipped").GetInt64()} frames skipped, {status.GetProperty("posts_cached").GetInt64():N0} posts cached");
        Console.WriteLine($"RSS          at 25/50/75/100% of the stream: {string.Join(" / ", rssAt.Select(rss => rss.ToString("F0", CultureInfo.InvariantCulture)))} MiB; peak {memory.PeakMiB:F0} MiB");
        BenchHost.PrintFigures(("events", frames.Count), ("events_per_s", Math.Round(perSecond)), ("seconds", Math.Round(elapsed, 1)),
            ("rss_mib", Math.Round(memory.RssMiB)), ("peak_rss_mib", Math.Round(memory.PeakMiB)));
        return 0;
    }

    public static async Task<int> RunZeroCallAsync(Arguments arguments)
    {
        var frames = await ScaledStreamAsync(arguments);
        var rate = arguments.Double("rate", 1_000);
        var seconds = arguments.Int("seconds", 30);
        var perRetrieval = arguments.Int("posts", 25);
        var interval = TimeSpan.FromMilliseconds(arguments.Int("interval-ms", 200));
        var (minAge, maxAge) = (arguments.Double("min-age", 2), arguments.Double("max-age", 180));
        var linger = arguments.Int("linger", 250);

        await using var appView = await BenchAppView.StartAsync(arguments, frames.SelectMany(frame => frame.PostUris));
        await using var firehose = await FakeFirehose.StartAsync();
        firehose.Frames = frames.Select(frame => new FakeFrame(frame.Seq, frame.Bytes)).ToList();
        firehose.FramesPerSecond = rate;
        await using var service = await ServiceProcess.StartAsync(new Dictionary<string, string?>(BenchDatabase.Sqlite().Fresh())
        {
            ["PostService:AppView:BaseUrl"] = appView.BaseUrl,
            ["PostService:Hydration:LingerMs"] = linger.ToString(CultureInfo.InvariantCulture),
            ["PostService:Firehose:Enabled"] = "true",
            ["PostService:Firehose:Url"] = firehose.Url,
        });

        var clock = await ConnectedAsync(firehose);
        var random = new Random(42);
        var acknowledged = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var id = 1L;
        while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            await Task.Delay(interval);
            // Posts written between min-age and max-age seconds ago, by the stream's pace.
            var sent = (int)firehose.Sent;
            var recent = frames.Take(Math.Max(0, sent - (int)(rate * minAge))).Skip(Math.Max(0, sent - (int)(rate * maxAge)))
                .SelectMany(frame => frame.PostUris).Where(uri => !acknowledged.ContainsKey(uri)).ToList();
            if (recent.Count == 0)
            {
                continue;
            }
            var page = recent.OrderBy(_ => random.Next()).Take(perRetrieval).ToList();
            using var content = new ByteArrayContent(Workload.RequestBody([new SyntheticRetrieval(id, $"did:plc:reader{id % 10}", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture), page)]));
            id++;
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await service.Client.PostAsync("/feed-retrievals", content);
            response.EnsureSuccessStatusCode();
            var at = DateTimeOffset.UtcNow;
            foreach (var uri in page)
            {
                acknowledged[uri] = at;
            }
        }

        var settled = await SettledAsync(service, acknowledged.Keys, TimeSpan.FromSeconds(60));
        var fromCache = settled.Where(post => post.Value.Source == "firehose").ToList();
        var latency = new Percentiles(fromCache.Select(post => (post.Value.HydratedAt - acknowledged[post.Key]).TotalMilliseconds));
        var asked = appView.Calls.SelectMany(call => call.Uris).Distinct().Count();
        var share = 100.0 * fromCache.Count / acknowledged.Count;
        Console.WriteLine($"stream       {frames.Count:N0} events at {rate:N0}/s; feed: {id - 1} retrievals of {perRetrieval} posts written {minAge:F0}-{maxAge:F0} s before, every {interval.TotalMilliseconds:F0} ms");
        Console.WriteLine($"zero-call    {fromCache.Count:N0} of {acknowledged.Count:N0} served URIs ({share:F1}%) ok from the firehose cache; {asked} URIs in {appView.Calls.Count} getPosts calls   (goal >= 80%)");
        Console.WriteLine($"ack -> ok    p50 {latency.At(0.5):F0} ms   p95 {latency.At(0.95):F0} ms   max {latency.Max:F0} ms (linger {linger} ms)   (goal p95 <= 200 ms)");
        BenchHost.PrintFigures(("served", acknowledged.Count), ("zero_call_percent", Math.Round(share, 1)), ("appview_calls", appView.Calls.Count),
            ("p50_ms", Math.Round(latency.At(0.5))), ("p95_ms", Math.Round(latency.At(0.95))), ("linger_ms", linger));
        return 0;
    }

    /// <summary>The scaled stream; the recording is made from the real PDS first when it is missing.</summary>
    private static async Task<List<ScaledFrame>> ScaledStreamAsync(Arguments arguments)
    {
        var recording = arguments.String("recording", DefaultRecording);
        if (!File.Exists(recording))
        {
            var url = arguments.String("url", NetworkFirehoseUrl());
            var recorded = await FirehoseRecording.RecordAsync(url, recording);
            Console.WriteLine($"recorded     {recorded} frames from {url} into {recording}");
        }
        var clock = Stopwatch.StartNew();
        var frames = FirehoseRecording.Scale(FirehoseRecording.Load(recording), arguments.Int("copies", 50));
        Console.WriteLine($"scaled       {frames.Count:N0} frames in {clock.Elapsed.TotalSeconds:F1} s");
        return frames;
    }

    private static string NetworkFirehoseUrl()
    {
        using var network = JsonDocument.Parse(File.ReadAllText("/tmp/realappview-rt/network.json"));
        return network.RootElement.GetProperty("firehoseUrl").GetString()!;
    }

    /// <summary>A clock started when the service's consumer connects.</summary>
    private static async Task<Stopwatch> ConnectedAsync(FakeFirehose firehose)
    {
        var waited = Stopwatch.StartNew();
        while (firehose.Cursors.Count == 0)
        {
            if (waited.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException("the service's consumer did not connect");
            }
            await Task.Delay(10);
        }
        return Stopwatch.StartNew();
    }

    private static async Task<Dictionary<string, (string Source, DateTimeOffset HydratedAt)>> SettledAsync(
        ServiceProcess service, IEnumerable<string> uris, TimeSpan patience)
    {
        var settled = new Dictionary<string, (string, DateTimeOffset)>(StringComparer.Ordinal);
        var open = uris.ToList();
        var waited = Stopwatch.StartNew();
        while (open.Count > 0 && waited.Elapsed < patience)
        {
            foreach (var uri in open.ToList())
            {
                var post = await service.Client.GetFromJsonAsync<JsonElement>("/posts/" + Uri.EscapeDataString(uri));
                if (post.GetProperty("hydration_status").GetString() == "ok")
                {
                    settled[uri] = (post.GetProperty("metadata_source").GetString()!,
                        DateTimeOffset.Parse(post.GetProperty("last_hydrated_at").GetString()!, CultureInfo.InvariantCulture));
                    open.Remove(uri);
                }
            }
            await Task.Delay(Poll);
        }
        return settled;
    }
}
