using PostService.Tests.Infrastructure;

namespace PostService.Bench;

/// <summary>The loopback fake AppView every hydration benchmark talks to, with the workload's posts.</summary>
public static class BenchAppView
{
    public const int DefaultLatencyMs = 150;

    /// <summary>
    /// Knows <paramref name="knownUris"/>; answers after <c>--latency</c> ms (default 150) and, with <c>--rate-limit N</c>,
    /// accepts at most N calls in any <c>--rate-window</c> seconds (default 300), answering 429 beyond.
    /// </summary>
    public static async Task<FakeAppView> StartAsync(Arguments arguments, IEnumerable<string> knownUris, int defaultLatencyMs = DefaultLatencyMs)
    {
        var appView = await FakeAppView.StartAsync();
        appView.Latency = TimeSpan.FromMilliseconds(arguments.Int("latency", defaultLatencyMs));
        if (arguments.Int("rate-limit", 0) is > 0 and var calls)
        {
            appView.LimitRate(calls, TimeSpan.FromSeconds(arguments.Int("rate-window", 300)));
        }
        Parallel.ForEach(knownUris, uri => appView.AddPost(uri));
        return appView;
    }

    /// <summary>The first <paramref name="count"/> pool posts the AppView still serves: all but one in 50 (deleted or hidden).</summary>
    public static IEnumerable<string> Served(int count) =>
        Enumerable.Range(0, count).Where(index => index % 50 != 0).Select(Workload.PostUri);

    /// <summary>A one-line description for the benchmark's table.</summary>
    public static string Describe(Arguments arguments, int defaultLatencyMs = DefaultLatencyMs) =>
        $"fake AppView on loopback, latency {arguments.Int("latency", defaultLatencyMs)} ms" +
        (arguments.Int("rate-limit", 0) is > 0 and var calls ? $", rate limit {calls} calls / {arguments.Int("rate-window", 300)} s" : "");
}
