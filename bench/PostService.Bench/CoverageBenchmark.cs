using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using PostService.Data;

namespace PostService.Bench;

/// <summary><c>GET /hydration/coverage</c>'s queries on a large posts table (bar: under 50 ms at one million posts).</summary>
public static class CoverageBenchmark
{
    private static readonly string[] Statuses = ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "not_found", "error", "pending", "invalid"];

    public static async Task<int> RunAsync(Arguments arguments)
    {
        var posts = arguments.Int("posts", 1_000_000);
        var repeat = arguments.Int("repeat", 20);
        var path = BenchHost.NewDatabasePath();
        using var host = await BenchHost.StartAsync(path);
        var connections = host.Services.GetRequiredService<IDbConnectionFactory>();
        var now = DateTimeOffset.UtcNow;

        var fill = Stopwatch.StartNew();
        const int chunk = 50_000;
        for (var start = 0; start < posts; start += chunk)
        {
            var rows = Enumerable.Range(start, Math.Min(chunk, posts - start)).Select(i =>
            {
                var status = Statuses[i % Statuses.Length];
                return new
                {
                    Uri = $"at://did:plc:author{i % 5_000}/app.bsky.feed.post/3k{i:D9}",
                    Status = status,
                    Author = status == "ok" ? $"did:plc:author{i % 5_000}" : null,
                    Hydrated = status is "pending" or "invalid" ? null : DbTime.ToText(now.AddMinutes(-(i % (60 * 24 * 40)))),
                };
            });
            await connections.WriteAsync((connection, transaction) => connection.ExecuteAsync(
                "INSERT INTO posts (post_uri, hydration_status, author_did, last_hydrated_at) VALUES (@Uri, @Status, @Author, @Hydrated)",
                rows, transaction), CancellationToken.None);
        }
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
        timings.Sort();
        double P(double q) => timings[(int)Math.Min(timings.Count - 1, Math.Ceiling(q * timings.Count) - 1)];

        Console.WriteLine($"posts       {posts:N0} (filled in {fill.Elapsed.TotalSeconds:F1} s, {new FileInfo(path).Length / 1_048_576} MiB)");
        Console.WriteLine($"coverage    p50 {P(0.5):F1} ms   p95 {P(0.95):F1} ms   max {timings[^1]:F1} ms   ({repeat} runs)");
        BenchHost.PrintFigures(("posts", posts), ("coverage_p50_ms", Math.Round(P(0.5), 1)), ("coverage_p95_ms", Math.Round(P(0.95), 1)), ("coverage_max_ms", Math.Round(timings[^1], 1)));
        return 0;
    }
}
