using System.CommandLine;
using PostService.Analytics;
using PostService.Storage;
using PostService.Storage.Migrations;

namespace PostService.Cli;

/// <summary>
/// <c>rebuild-hashtag-stats [--db] [--since T]</c>: recomputes <c>hashtag_hourly_stats</c> from the served rows, for every
/// hour (or those from <c>--since</c>), e.g. after a replay or when the service's periodic pass was off.
/// </summary>
internal static class RebuildHashtagStatsCommand
{
    public static Command Create(CliEnvironment environment)
    {
        var database = PostServiceCli.DatabaseOption();
        var since = new Option<string?>("--since") { Description = "Only hours from this ISO-8601 time on. Default: all." };
        var command = new Command("rebuild-hashtag-stats", "Recompute the hourly hashtag statistics from the served rows.") { database, since };
        command.SetAction(PostServiceCli.Verb(environment, async (parse, cancellationToken) =>
        {
            var from = parse.GetValue(since) is not { } text ? DateTimeOffset.UnixEpoch
                : DbTime.TryParse(text, out var time) ? time
                : throw new CliUsageException($"--since '{text}' is not an ISO-8601 time, e.g. 2025-05-01T12:00:00Z.");
            using var host = CliHost.Build(parse.GetValue(database)?.FullName, environment);
            await host.Services.GetRequiredService<Migrator>().MigrateAsync(cancellationToken);
            var now = host.Services.GetRequiredService<TimeProvider>().GetUtcNow();
            var rows = await host.Services.GetRequiredService<HashtagStats>().RecomputeAsync(from, now, cancellationToken);
            await environment.Output.WriteLineAsync($"Recomputed hashtag_hourly_stats: {rows} rows (hashtag, hour) up to {DbTime.ToText(HashtagStats.HourOf(now))}.");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
