using System.Diagnostics;
using System.Globalization;
using PostService.Hydration;
using Spectre.Console;

namespace PostService.Cli;

/// <summary>
/// Follows a run by polling its live counters: a progress bar on a terminal, a plain line every few seconds
/// elsewhere (CI, pipes). Done means settled: hydrated, not found or failed.
/// </summary>
internal static class HydrationProgress
{
    private static readonly TimeSpan BarRefresh = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan LineInterval = TimeSpan.FromSeconds(5);

    public static Task FollowAsync(CliEnvironment environment, HydrationRun run, long total, Task running) =>
        environment.Interactive ? BarAsync(environment.CreateConsole(), run, total, running) : LinesAsync(environment.Output, run, total, running);

    private static Task BarAsync(IAnsiConsole console, HydrationRun run, long total, Task running) =>
        console.Progress()
            .AutoClear(false)
            .Columns(new ProgressBarColumn(), new PercentageColumn(), new TaskDescriptionColumn { Alignment = Justify.Left })
            .StartAsync(async context =>
            {
                var bar = context.AddTask("starting", maxValue: Math.Max(total, 1));
                var clock = Stopwatch.StartNew();
                void Show()
                {
                    var sample = Sample.Of(run, total, clock.Elapsed);
                    bar.MaxValue = Math.Max(sample.Total, 1);
                    bar.Value = sample.Done;
                    bar.Description = Markup.Escape(sample.ToString());
                }
                do
                {
                    Show();
                }
                while (!await EndedWithinAsync(running, BarRefresh));
                Show();
            });

    private static async Task LinesAsync(TextWriter output, HydrationRun run, long total, Task running)
    {
        var clock = Stopwatch.StartNew();
        while (!await EndedWithinAsync(running, LineInterval))
        {
            await output.WriteLineAsync(Sample.Of(run, total, clock.Elapsed).ToString());
        }
    }

    /// <summary>Waits for the run to end, at most <paramref name="wait"/>; true when it has (whether it failed or not).</summary>
    internal static async Task<bool> EndedWithinAsync(Task running, TimeSpan wait) => await Task.WhenAny(running, Task.Delay(wait)) == running;

    private sealed record Sample(long Done, long Total, double PerSecond, long RateLimited)
    {
        public static Sample Of(HydrationRun run, long total, TimeSpan elapsed)
        {
            var now = run.Snapshot();
            var done = now.Hydrated + now.NotFound + now.Errors;
            return new Sample(done, Math.Max(total, done), elapsed.TotalSeconds > 0 ? done / elapsed.TotalSeconds : 0, now.RateLimited);
        }

        public override string ToString()
        {
            var eta = PerSecond > 0 ? TimeSpan.FromSeconds((Total - Done) / PerSecond).ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture) : "--:--:--";
            return string.Create(CultureInfo.InvariantCulture, $"{Done:N0}/{Total:N0} done, {PerSecond:F1}/s, ETA {eta}, 429s {RateLimited}");
        }
    }
}
