using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using PostService.Ingestion;
using PostService.Tests.Infrastructure;

namespace PostService.Bench;

/// <summary>
/// Ingestion throughput: served posts stored per second through <c>POST /feed-retrievals</c> on the real service
/// (its own process, Kestrel on loopback) with several concurrent clients and the hydration worker off or busy,
/// against, in the same run and on the same retrievals: the minimal ceiling (<see cref="MinimalCeiling"/>), the
/// service's own ceiling (its ingestor in process, 1,000 retrievals a transaction) and, with <c>--peer DIR</c>, the
/// Python compliance tracker's <c>store_feed_retrievals</c> (bars: HTTP at least 70% of the minimal ceiling and 1.5x
/// the Python tool, request p99 under 1 s). <c>--rounds N</c> measures all of them N times, one after the other each
/// round, and reports each round's figures and the medians.
/// </summary>
public static class IngestBenchmark
{
    private const int CeilingRetrievalsPerTransaction = 1_000;

    private const long WarmUpFirstId = 1_000_000_000_000;

    public static async Task<int> RunAsync(Arguments arguments)
    {
        var requests = arguments.Int("requests", 100);
        var perRequest = arguments.Int("batch", 50);
        var clients = arguments.Int("clients", 4);
        var freshShare = arguments.Double("fresh", Workload.DefaultFreshShare);
        var cidShare = arguments.Double("cids", 0.3);
        var hydration = arguments.String("hydration", "off");
        var rounds = arguments.Int("rounds", 1);
        if (rounds < 1)
        {
            throw new ArgumentException($"--rounds must be at least 1, not {rounds}.");
        }
        var database = BenchDatabase.From(arguments);
        var servedPosts = (long)requests * perRequest * Workload.PostsPerRetrieval;
        var workload = new Workload((int)Math.Max(Workload.PostsPerRetrieval, servedPosts * freshShare * 2), freshShare);
        var bodies = workload.Requests(requests, perRequest, cidShare);
        var parsed = bodies.Select(Parse).ToList();

        Console.WriteLine($"workload     {requests:N0} requests x {perRequest} retrievals x {Workload.PostsPerRetrieval} posts = {servedPosts:N0} served posts, " +
            $"{workload.Issued:N0} distinct ({freshShare:P0} new), {cidShare:P0} with a CID");
        Console.WriteLine($"database     {database.Description}");
        // Each round measures everything once, on fresh databases, one after the other: on a shared machine a ratio of
        // two measurements taken seconds apart holds better than either figure, and the median of rounds better still.
        // The two in-process ceilings run in this process: each runs once unreported first, so that their code is
        // compiled as the service's is by its warm-up requests (a cold minimal ceiling measured a quarter slower).
        if (database.Provider == "sqlite")
        {
            MinimalCeiling.Measure(parsed);
        }
        await MeasureCeilingAsync(database, parsed);
        var figuresPerRound = new Dictionary<string, List<double>>();
        var latencies = new List<double>();
        Run? http = null;
        for (var round = 1; round <= rounds; round++)
        {
            if (rounds > 1)
            {
                Console.WriteLine($"round {round} of {rounds}");
            }
            var runs = await MeasureRoundAsync(arguments, database, workload, bodies, parsed, clients, hydration);
            http = runs[^1];
            latencies.Add(http.Latency!.At(0.99));
            foreach (var run in runs)
            {
                Console.WriteLine($"{run.Name,-12} {run.PostsPerSecond,10:N0} posts/s   {run.Seconds,6:F1} s   {run.PostsPerProcessorSecond,8:N0} posts/cpu-s   load {run.Load:F1}   {run.Description}" +
                    (run.Latency is { } latency ? $", request p50 {latency.At(0.5):F0} ms p99 {latency.At(0.99):F0} ms" : ""));
                Add(figuresPerRound, $"{run.Name}_posts_per_s", run.PostsPerSecond);
            }
            foreach (var run in runs.Where(run => run != http))
            {
                var ratio = http.PostsPerSecond / run.PostsPerSecond;
                var processorRatio = http.PostsPerProcessorSecond / run.PostsPerProcessorSecond;
                Console.WriteLine($"http/{run.Name,-8}   {ratio,10:F2}x   per cpu-s {processorRatio:F2}x" + run.Name switch
                {
                    "minimal" => "          (bar 0.70x)",
                    "python" => "          (bar 1.50x)",
                    _ => "",
                });
                Add(figuresPerRound, $"http_over_{run.Name}", ratio);
                Add(figuresPerRound, $"http_over_{run.Name}_per_cpu_s", processorRatio);
            }
        }

        var figures = new List<(string, object)>
        {
            ("provider", database.Provider), ("fresh", freshShare), ("hydration", hydration), ("served_posts", http!.PostRows), ("clients", clients),
            ("batch", perRequest), ("rounds", rounds), ("request_p99_ms", Math.Round(Median(latencies))),
        };
        foreach (var (name, values) in figuresPerRound)
        {
            figures.Add((name, Math.Round(Median(values), name.EndsWith("_per_s", StringComparison.Ordinal) ? 0 : 2)));
            if (rounds > 1 && name is "http_over_minimal" or "http_over_python")
            {
                figures.Add(($"{name}_range", $"{values.Min():F2}-{values.Max():F2}"));
            }
        }
        if (rounds > 1)
        {
            Console.WriteLine($"medians of {rounds} rounds:");
        }
        BenchHost.PrintFigures([.. figures]);
        return 0;
    }

    /// <summary>One round: the Python tool (with <c>--peer</c>) and the minimal ceiling on SQLite, then the service in process and over HTTP, last.</summary>
    private static async Task<List<Run>> MeasureRoundAsync(Arguments arguments, BenchDatabase database, Workload workload,
        List<byte[]> bodies, List<IReadOnlyList<Retrieval>> parsed, int clients, string hydration)
    {
        var runs = new List<Run>();
        var peer = arguments.String("peer", "");
        if (peer.Length > 0 && database.Provider == "sqlite")
        {
            runs.Add(await MeasurePeerAsync(peer, bodies));
        }
        if (database.Provider == "sqlite")
        {
            var processor = ProcessorTime();
            var (rows, seconds) = MinimalCeiling.Measure(parsed);
            runs.Add(new Run("minimal", "three tables, two posts indexes, prepared statements, a transaction per request", rows, seconds,
                ProcessorTime() - processor, null, LoadAverage()));
        }
        runs.Add(await MeasureCeilingAsync(database, parsed));
        var http = await MeasureHttpAsync(arguments, database, workload, bodies, clients, hydration);
        runs.Add(http);
        foreach (var run in runs.Where(run => run.PostRows != http.PostRows))
        {
            throw new InvalidOperationException($"HTTP stored {http.PostRows} post rows, {run.Name} {run.PostRows}: not the same rows.");
        }
        return runs;
    }

    private static void Add(Dictionary<string, List<double>> values, string name, double value)
    {
        if (!values.TryGetValue(name, out var list))
        {
            values[name] = list = [];
        }
        list.Add(value);
    }

    // Nearest rank, as every p50 the bench prints: with an even number of rounds, the lower of the middle two.
    private static double Median(List<double> values) => new Percentiles(values).At(0.5);

    /// <param name="Processor">Processor time the storing process used: the service process for HTTP (not the clients).</param>
    private sealed record Run(string Name, string Description, long PostRows, double Seconds, TimeSpan Processor, Percentiles? Latency, double Load)
    {
        public double PostsPerSecond => PostRows / Seconds;

        /// <summary>Throughput per second of processor time: on a machine others load too, what the code costs.</summary>
        public double PostsPerProcessorSecond => PostRows / Processor.TotalSeconds;
    }

    private static TimeSpan ProcessorTime() => Process.GetCurrentProcess().TotalProcessorTime;

    private static IReadOnlyList<Retrieval> Parse(byte[] body)
    {
        using var document = JsonDocument.Parse(body);
        return RetrievalBatchParser.Parse(document.RootElement, new IngestionOptions()).Batch!.Retrievals;
    }

    /// <summary>The one-minute load average of the machine, just after a measurement.</summary>
    private static double LoadAverage() =>
        double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);

    /// <summary>The Python tool's <c>store_feed_retrievals</c>, one call (one commit) per request body, through <c>bench/peer/</c>.</summary>
    private static async Task<Run> MeasurePeerAsync(string checkout, List<byte[]> bodies)
    {
        var folder = Path.GetDirectoryName(BenchHost.NewDatabasePath())!;
        var bodiesPath = Path.Combine(folder, "bodies.jsonl");
        await File.WriteAllLinesAsync(bodiesPath, bodies.Select(body => System.Text.Encoding.UTF8.GetString(body)));
        var driver = Path.Combine(AppContext.BaseDirectory, "peer", "store_feed_retrievals.py");
        using var python = Process.Start(new ProcessStartInfo("python3", [driver, checkout, Path.Combine(folder, "tracker.db"), bodiesPath])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        }) ?? throw new InvalidOperationException("python3 did not start");
        var output = await python.StandardOutput.ReadToEndAsync();
        var error = await python.StandardError.ReadToEndAsync();
        await python.WaitForExitAsync();
        if (python.ExitCode != 0)
        {
            throw new InvalidOperationException($"The Python driver failed ({python.ExitCode}): {error}");
        }
        var values = output.Trim().Split(' ').Select(pair => pair.Split('=')).ToDictionary(pair => pair[0], pair => double.Parse(pair[1], CultureInfo.InvariantCulture));
        return new Run("python", "compliance_tracker.store_feed_retrievals in process, a commit per request (its own pragmas)",
            (long)values["post_rows"], values["seconds"], TimeSpan.FromSeconds(values["cpu_seconds"]), null, LoadAverage());
    }

    /// <summary>The same retrievals, parsed before the clock starts, stored by the service's ingestor without HTTP or JSON.</summary>
    private static async Task<Run> MeasureCeilingAsync(BenchDatabase database, List<IReadOnlyList<Retrieval>> bodies)
    {
        using var host = await BenchHost.StartAsync(database.Fresh());
        var ingestor = host.Services.GetRequiredService<RetrievalIngestor>();
        long postRows = 0;
        var processor = ProcessorTime();
        var clock = Stopwatch.StartNew();
        foreach (var chunk in bodies.SelectMany(body => body).Chunk(CeilingRetrievalsPerTransaction))
        {
            postRows += (await ingestor.ReplayAsync(new RetrievalBatch(chunk, IdenticalCopies: 0), DateTimeOffset.UtcNow, CancellationToken.None)).PostRows;
        }
        return new Run("service", $"the service's ingestor in process, {CeilingRetrievalsPerTransaction} retrievals a transaction",
            postRows, clock.Elapsed.TotalSeconds, ProcessorTime() - processor, null, LoadAverage());
    }

    /// <summary>
    /// The bodies over HTTP, after a warm-up (<c>--warm-up N</c> requests, default 20). <paramref name="hydration"/>:
    /// <c>off</c>; <c>busy429</c>, the worker on against an AppView that answers every call with 429 (Retry-After
    /// 1 s); <c>budget</c>, the worker on against an AppView that knows the posts and answers after <c>--latency</c>
    /// ms, at the service's default budget.
    /// </summary>
    private static async Task<Run> MeasureHttpAsync(
        Arguments arguments, BenchDatabase database, Workload workload, List<byte[]> bodies, int clients, string hydration)
    {
        await using var appView = hydration switch
        {
            "off" => null,
            "busy429" => await FakeAppView.StartAsync(),
            "budget" => await BenchAppView.StartAsync(arguments, BenchAppView.Served(workload.PoolSize)),
            _ => throw new ArgumentException($"--hydration must be off, busy429 or budget, not '{hydration}'."),
        };
        if (hydration == "busy429")
        {
            appView!.LimitRate(0, TimeSpan.FromSeconds(1));
        }
        var settings = new Dictionary<string, string?>(database.Fresh());
        if (appView is null)
        {
            settings["PostService:Hydration:Enabled"] = "false";
        }
        else
        {
            settings["PostService:AppView:BaseUrl"] = appView.BaseUrl;
        }
        await using var service = await ServiceProcess.StartAsync(settings);
        // A service that has run a while: its code compiled (the JIT took a quarter of a fresh process's processor time
        // in the first seconds, perf), on requests of their own ids and URIs, so the measured rows are the same.
        await SendAsync(service, WarmUpBodies(arguments.Int("warm-up", 20), bodies.Count > 0 ? Parse(bodies[0]).Count : 1), clients);
        var callsBefore = appView?.Calls.Count ?? 0;
        var processor = service.ProcessorTime();
        var clock = Stopwatch.StartNew();
        var (postRows, timings) = await SendAsync(service, bodies, clients);
        var seconds = clock.Elapsed.TotalSeconds;
        var used = service.ProcessorTime() - processor;
        var worker = appView is null ? "hydration off" : $"hydration {hydration}: {appView.Calls.Count - callsBefore:N0} getPosts calls during the run";
        return new Run("http", $"{clients} clients, {bodies.Count} requests, {worker}", postRows, seconds, used, new Percentiles(timings), LoadAverage());
    }

    /// <summary>
    /// <paramref name="clients"/> concurrent connections, each posting the next body as soon as the previous one is
    /// acknowledged; returns the post rows stored and each request's time in milliseconds.
    /// </summary>
    private static async Task<(long PostRows, double[] Timings)> SendAsync(ServiceProcess service, List<byte[]> bodies, int clients)
    {
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
        return (postRows, timings);
    }

    /// <summary>Requests of <paramref name="perRequest"/> retrievals whose ids and URIs the workload never uses.</summary>
    private static List<byte[]> WarmUpBodies(int requests, int perRequest) =>
        Enumerable.Range(0, requests).Select(request => Workload.RequestBody(Enumerable.Range(0, perRequest).Select(offset =>
        {
            var id = WarmUpFirstId + (long)request * perRequest + offset;
            var uris = Enumerable.Range(0, Workload.PostsPerRetrieval)
                .Select(position => $"at://did:plc:warmup{id % 1_000:D16}/app.bsky.feed.post/3kw{id:D12}{position:D2}").ToList();
            return new SyntheticRetrieval(id, "did:plc:warmup", "2025-04-30T00:00:00.000Z", uris);
        }))).ToList();
}
