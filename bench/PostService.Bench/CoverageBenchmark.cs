using System.Diagnostics;
using PostService.Hydration;
using PostService.Storage;

namespace PostService.Bench;

/// <summary><c>GET /hydration/coverage</c>'s queries on a large posts table (bar: under 50 ms at one million posts).</summary>
public static class CoverageBenchmark
{
    public static async Task<int> RunAsync(Arguments arguments)
    {
        var posts = arguments.Int("posts", 1_000_000);
        var repeat = arguments.Int("repeat", 20);
        var path = BenchHost.NewDatabasePath();
        using var host = await BenchHost.StartAsync(path);
        var connections = host.Services.GetRequiredService<IDbConnectionFactory>();

        var fill = Stopwatch.StartNew();
        await SyntheticPosts.FillAsync(connections, posts);
        fill.Stop();

        var coverage = host.Services.GetRequiredService<CoverageQueries>();
        var timings = new List<double>();
        for (var i = 0; i < repeat + 2; i++)
        {
            var clock = Stopwatch.StartNew();
            await coverage.GetAsync(DateTimeOffset.UtcNow, 30, CancellationToken.None);
            if (i >= 2)
            {
                timings.Add(clock.Elapsed.TotalMilliseconds); // the first two warm the page cache
            }
        }
        var p = new Percentiles(timings);
        Console.WriteLine($"posts       {posts:N0} (filled in {fill.Elapsed.TotalSeconds:F1} s, {new FileInfo(path).Length / 1_048_576} MiB)");
        Console.WriteLine($"coverage    p50 {p.At(0.5):F1} ms   p95 {p.At(0.95):F1} ms   max {p.Max:F1} ms   ({repeat} runs)");
        BenchHost.PrintFigures(("posts", posts), ("coverage_p50_ms", Math.Round(p.At(0.5), 1)), ("coverage_p95_ms", Math.Round(p.At(0.95), 1)), ("coverage_max_ms", Math.Round(p.Max, 1)));
        return 0;
    }
}
