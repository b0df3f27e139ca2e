using System.Diagnostics;
using Dapper;
using PostService.Hydration;
using PostService.Storage;
using PostService.Tests.Infrastructure;

namespace PostService.Bench;

/// <summary>
/// A hydration backlog against the loopback fake AppView with a scaled-down budget: how much of the budget the
/// steady state uses (bar: at least 95%) and how many calls ever exceeded it in any window (bar: 0).
/// </summary>
public static class BudgetBenchmark
{
    public static async Task<int> RunAsync(Arguments arguments)
    {
        var uris = arguments.Int("uris", 20_000);
        var calls = arguments.Int("calls", 300);
        var windowSeconds = arguments.Int("window", 30);
        var faults = arguments.Bool("faults");
        var window = TimeSpan.FromSeconds(windowSeconds);

        await using var appView = await BenchAppView.StartAsync(arguments, BenchAppView.Served(uris));
        var backlog = Enumerable.Range(0, uris).Select(Workload.PostUri).ToList();
        if (faults)
        {
            // 2% of calls answer 500 and 1% answer 429, scattered at random; the rest answer normally.
            var random = new Random(42);
            for (var i = 0; i < uris; i++)
            {
                var roll = random.Next(100);
                appView.Script.Enqueue(roll < 2 ? FakeResponse.Status(500) : roll < 3 ? FakeResponse.RateLimited(1) : new FakeResponse());
            }
        }

        using var host = await BenchHost.StartAsync(BenchHost.NewDatabasePath(), new Dictionary<string, string?>
        {
            ["PostService:Hydration:BudgetCalls"] = calls.ToString(),
            ["PostService:Hydration:BudgetWindowSeconds"] = windowSeconds.ToString(),
            ["PostService:AppView:BaseUrl"] = appView.BaseUrl,
            ["PostService:AppView:RetryBaseDelayMs"] = "200",
        });
        var connections = host.Services.GetRequiredService<IDbConnectionFactory>();
        await connections.WriteAsync((connection, transaction) => connection.ExecuteAsync(
            "INSERT INTO posts (post_uri, hydration_status) VALUES (@Uri, 'pending')", backlog.Select(uri => new { Uri = uri }), transaction),
            CancellationToken.None);

        var engine = host.Services.GetRequiredService<HydrationEngine>();
        var clock = Stopwatch.StartNew();
        var run = await engine.RunAsync(new HydrationRun(new RunSpec(RunTrigger.Cli)), null, CancellationToken.None, CancellationToken.None);
        clock.Stop();

        var log = appView.Calls;
        var start = log.Min(call => call.StartedAt);
        // Steady state: every whole window after the first, whose burst the budget allows at once.
        var fullWindows = (int)Math.Floor((log.Max(call => call.StartedAt) - start) / window);
        var steady = Enumerable.Range(1, Math.Max(0, fullWindows - 1))
            .Select(k => log.Count(call => call.StartedAt >= start + k * window && call.StartedAt < start + (k + 1) * window) / (double)calls)
            .ToList();
        var utilisation = steady.Count > 0 ? steady.Average() : double.NaN;
        var overBudget = Math.Max(0, appView.CallsInAnyWindow(window) - calls);

        Console.WriteLine($"backlog          {uris:N0} URIs, budget {calls} calls / {windowSeconds} s, {BenchAppView.Describe(arguments)}{(faults ? ", 2% 500 + 1% 429" : "")}");
        Console.WriteLine($"run              {clock.Elapsed.TotalSeconds:F1} s, {log.Count} calls, hydrated {run.Hydrated:N0}, not found {run.NotFound:N0}, errors {run.Errors}, 429s {run.RateLimited}, retries {run.Retries}");
        Console.WriteLine($"steady windows   {string.Join(" ", steady.Select(u => $"{u:P1}"))}");
        Console.WriteLine($"budget use       {utilisation:P1} (bar 95%)   calls over budget in any window: {overBudget} (bar 0)");
        BenchHost.PrintFigures(("uris", uris), ("seconds", Math.Round(clock.Elapsed.TotalSeconds, 1)), ("calls", log.Count),
            ("budget_use_pct", Math.Round(utilisation * 100, 1)), ("over_budget", overBudget), ("hydrated", run.Hydrated),
            ("not_found", run.NotFound), ("errors", run.Errors), ("rate_limited", run.RateLimited));
        return 0;
    }
}
