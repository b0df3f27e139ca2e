using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using PostService.Storage;

namespace PostService.Bench;

/// <summary>
/// <c>GET /posts/{uri}</c> on a large database, driven by wrk in its own process at <c>--connections</c> open
/// connections, each request for a random post of the pool (bar: p99 under 10 ms at 64 connections).
/// </summary>
public static partial class ReadsBenchmark
{
    public static async Task<int> RunAsync(Arguments arguments)
    {
        var posts = arguments.Int("posts", 1_000_000);
        var connections = arguments.Int("connections", 64);
        var seconds = arguments.Int("seconds", 30);
        var threads = arguments.Int("threads", 2);

        var path = BenchHost.NewDatabasePath();
        var fill = Stopwatch.StartNew();
        using (var host = await BenchHost.StartAsync(path))
        {
            await SyntheticPosts.FillAsync(host.Services.GetRequiredService<IDbConnectionFactory>(), posts);
        }
        fill.Stop();

        await using var service = await ServiceProcess.StartAsync(new Dictionary<string, string?>
        {
            ["PostService:Database:Path"] = path,
            ["PostService:Hydration:Enabled"] = "false",
        });
        var script = Path.Combine(Path.GetDirectoryName(path)!, "random-post.lua");
        await File.WriteAllTextAsync(script, LuaScript(posts));

        await RunWrkAsync(service.BaseUrl, script, threads, connections, seconds: 5); // warms the JIT and the page cache
        var output = await RunWrkAsync(service.BaseUrl, script, threads, connections, seconds);
        var requestsPerSecond = double.Parse(RequestsPerSecond().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        double Percentile(string label) => Milliseconds(Regex.Match(output, $@"^\s*{label}%\s+(\S+)", RegexOptions.Multiline).Groups[1].Value);
        var errors = NonSuccess().Match(output) is { Success: true } match ? long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;

        Console.WriteLine($"database     {posts:N0} posts (filled in {fill.Elapsed.TotalSeconds:F1} s, {new FileInfo(path).Length / 1_048_576} MiB)");
        Console.WriteLine($"load         wrk -t{threads} -c{connections} -d{seconds}s, a random post of the pool per request, separate process");
        Console.WriteLine($"throughput   {requestsPerSecond:N0} requests/s   ({errors} non-2xx)");
        Console.WriteLine($"latency      p50 {Percentile("50"):F2} ms   p90 {Percentile("90"):F2} ms   p99 {Percentile("99"):F2} ms   (bar p99 < 10 ms)");
        BenchHost.PrintFigures(("posts", posts), ("connections", connections), ("rps", Math.Round(requestsPerSecond)),
            ("p50_ms", Math.Round(Percentile("50"), 2)), ("p99_ms", Math.Round(Percentile("99"), 2)), ("non_2xx", errors));
        return 0;
    }

    /// <summary>Each wrk thread seeds its own generator and asks for pool posts uniformly at random.</summary>
    private static string LuaScript(int posts) => $$"""
        local threads = 0
        function setup(thread)
          thread:set("id", threads)
          threads = threads + 1
        end
        function init(args)
          math.randomseed(os.time() * 1000 + id)
        end
        function request()
          local i = math.random(0, {{posts - 1}})
          return wrk.format("GET", "/posts/" .. {{Workload.LuaEncodedPostUri("i")}})
        end
        """;

    private static async Task<string> RunWrkAsync(string baseUrl, string script, int threads, int connections, int seconds)
    {
        var start = new ProcessStartInfo("wrk")
        {
            ArgumentList = { $"-t{threads}", $"-c{connections}", $"-d{seconds}s", "--latency", "-s", script, baseUrl },
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using var wrk = Process.Start(start) ?? throw new InvalidOperationException("wrk did not start (apt-get install -y wrk)");
        var output = await wrk.StandardOutput.ReadToEndAsync();
        await wrk.WaitForExitAsync();
        return wrk.ExitCode == 0 ? output : throw new InvalidOperationException($"wrk failed:\n{output}");
    }

    /// <summary>wrk prints durations as 850.00us, 3.21ms or 1.02s.</summary>
    private static double Milliseconds(string text)
    {
        var match = Duration().Match(text);
        var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch { "us" => value / 1000, "ms" => value, "s" => value * 1000, "m" => value * 60_000, _ => double.NaN };
    }

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex NonSuccess();

    [GeneratedRegex(@"^([\d.]+)(us|ms|s|m)$")]
    private static partial Regex Duration();
}
