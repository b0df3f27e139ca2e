using System.CommandLine;
using System.Globalization;
using PostService.Hydration;
using Spectre.Console;

namespace PostService.Cli;

/// <summary>
/// <c>hydrate --db &lt;path&gt; [--forcefetch-failedhydration] [--limit N]</c>: one hydration run in the foreground, the
/// same engine and rules as the service's worker, after the pending migrations (as the service applies them at start).
/// Ctrl+C (or SIGTERM) cancels the calls in flight and waits for them: a post is only ever written with a whole answer.
/// Exit code: <see cref="ExitCodes.Ok"/> when the run completed, whatever it found (not_found and error posts included);
/// <see cref="ExitCodes.AppViewUnreachable"/> when it sent calls and not one was answered; <see cref="ExitCodes.Cancelled"/>.
/// </summary>
internal static class HydrateCommand
{
    public static Command Create(CliEnvironment environment)
    {
        var database = PostServiceCli.DatabaseOption();
        var force = new Option<bool>("--forcefetch-failedhydration")
        {
            Description = "Also re-fetch not_found and error posts, whatever their attempts and retry times.",
        };
        var limit = new Option<int?>("--limit") { Description = "Stop after attempting this many posts." };
        limit.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is <= 0)
            {
                result.AddError("--limit must be a positive number of posts.");
            }
        });
        var command = new Command("hydrate", "Run one hydration run now, with live progress, and print its stats.") { database, force, limit };
        command.SetAction(PostServiceCli.Verb(environment, (parse, cancellationToken) => RunAsync(
            parse.GetValue(database)?.FullName, new RunSpec(RunTrigger.Cli, Force: parse.GetValue(force), Limit: parse.GetValue(limit)),
            environment, cancellationToken)));
        return command;
    }

    /// <summary>
    /// The AppView was unreachable throughout when the run sent calls and none came back with an answer about a post:
    /// nothing hydrated and nothing reported missing. (An AppView that rejects every URI as invalid counts too.)
    /// </summary>
    private static bool AppViewUnreachable(HydrationRunRecord run) => run.ApiCalls > 0 && run.Hydrated + run.NotFound == 0;

    private static async Task<int> RunAsync(string? database, RunSpec spec, CliEnvironment environment, CancellationToken cancellationToken)
    {
        using var verb = await ForegroundVerb.StartAsync(database, environment, cancellationToken);
        var (host, store, stop) = (verb.Host, verb.Store, verb.Stopping);

        var engine = host.Services.GetRequiredService<HydrationEngine>();
        var total = await engine.CountDueAsync(spec, stop);
        await environment.Output.WriteLineAsync($"{total} posts to hydrate in {store}{(spec.Force ? ", failed ones included" : "")}.");
        var run = new HydrationRun(spec);
        var running = engine.RunAsync(run, hints: null, CancellationToken.None, stop);
        await HydrationProgress.FollowAsync(environment, run, total, running);
        var record = await running;

        environment.CreateConsole().Write(StatsTable(record));
        if (record.Status == HydrationRunStatus.Cancelled)
        {
            await environment.Output.WriteLineAsync("Stopped: the calls in flight were cancelled; their posts are as they were and hydrate on the next run.");
            return ExitCodes.Cancelled;
        }
        if (AppViewUnreachable(record))
        {
            await environment.Error.WriteLineAsync("error: the AppView did not answer any call; see the errors recorded on the posts (hydration_error).");
            return ExitCodes.AppViewUnreachable;
        }
        return ExitCodes.Ok;
    }

    private static Table StatsTable(HydrationRunRecord run)
    {
        var duration = DateTimeOffset.Parse(run.FinishedAt ?? run.StartedAt, CultureInfo.InvariantCulture) - DateTimeOffset.Parse(run.StartedAt, CultureInfo.InvariantCulture);
        var table = new Table().AddColumn($"run {run.RunId}").AddColumn(new TableColumn(EnumText<HydrationRunStatus>.Of(run.Status)).RightAligned());
        foreach (var (name, value) in (IEnumerable<(string, long)>)[
            ("attempted", run.Attempted), ("hydrated", run.Hydrated), ("not found", run.NotFound), ("errors", run.Errors),
            ("skipped (cached)", run.SkippedCached), ("API calls", run.ApiCalls), ("rate limited (429)", run.RateLimited), ("retries", run.Retries)])
        {
            table.AddRow(name, value.ToString("N0", CultureInfo.InvariantCulture));
        }
        table.AddRow("duration", duration.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture));
        return table;
    }
}
