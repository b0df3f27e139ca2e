using System.Globalization;
using PostService.Firehose;
using Spectre.Console;

namespace PostService.Cli;

/// <summary>The firehose verb's display: one live line on a terminal, a plain line every few seconds elsewhere.</summary>
internal static class FirehoseProgress
{
    private static readonly TimeSpan LiveRefresh = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan LineInterval = TimeSpan.FromSeconds(5);

    public static async Task FollowAsync(CliEnvironment environment, FirehoseStatus status, FirehoseStore store, Task running)
    {
        if (environment.Interactive)
        {
            await environment.CreateConsole().Live(new Markup("starting")).AutoClear(false).StartAsync(async context =>
            {
                do
                {
                    context.UpdateTarget(new Markup(Markup.Escape(await DescribeAsync(status, store))));
                }
                while (!await HydrationProgress.EndedWithinAsync(running, LiveRefresh));
                context.UpdateTarget(new Markup(Markup.Escape(await DescribeAsync(status, store))));
            });
            return;
        }
        while (!await HydrationProgress.EndedWithinAsync(running, LineInterval))
        {
            await environment.Output.WriteLineAsync(await DescribeAsync(status, store));
        }
    }

    private static async Task<string> DescribeAsync(FirehoseStatus status, FirehoseStore store)
    {
        long cached;
        try
        {
            cached = await store.CountCachedPostsAsync(CancellationToken.None);
        }
        catch (Exception exception) when (exception is System.Data.Common.DbException)
        {
            cached = -1;
        }
        var lag = status.Lag is { } behind ? behind.ToString(@"d\.hh\:mm\:ss", CultureInfo.InvariantCulture) : "-";
        return string.Create(CultureInfo.InvariantCulture,
            $"{status.State.ToString().ToLowerInvariant()}, {status.EventsPerSecond:N0} events/s, cursor {status.Cursor?.ToString(CultureInfo.InvariantCulture) ?? "-"}, " +
            $"lag {lag}, {status.EventsApplied:N0} applied, {cached:N0} posts cached, {status.FramesSkipped:N0} frames skipped");
    }
}
