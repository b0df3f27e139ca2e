using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using PostService.Backfill;
using PostService.Storage;
using PostService.Storage.Migrations;
using Spectre.Console;

namespace PostService.Cli;

/// <summary>
/// <c>backfill-repos --dids did:plc:a,did:plc:b | --dids-file F [--since T] [--until T] [--collections post,like,...] [--refresh]</c>:
/// enqueues one job per DID and works through them in the foreground with a progress bar (DIDs done, records, MB, rate). A
/// DID already backfilled is skipped unless <c>--refresh</c>; a run cut short resumes with the DIDs not finished.
/// Exit code: <see cref="ExitCodes.Ok"/> when every DID was backfilled, <see cref="ExitCodes.Failed"/> when one failed.
/// </summary>
internal static class BackfillReposCommand
{
    private static readonly TimeSpan Refresh = TimeSpan.FromMilliseconds(250);

    public static Command Create(CliEnvironment environment)
    {
        var database = PostServiceCli.DatabaseOption();
        var dids = new Option<string?>("--dids") { Description = "Comma-separated DIDs of the participants." };
        var didsFile = new Option<FileInfo>("--dids-file") { Description = "A file with one DID per line." }.AcceptExistingOnly();
        var since = new Option<DateTimeOffset?>("--since") { Description = "Keep records created at or after this time (ISO-8601)." };
        var until = new Option<DateTimeOffset?>("--until") { Description = "Keep records created before this time (ISO-8601)." };
        var collections = new Option<string?>("--collections") { Description = $"Record types to keep, comma-separated: {string.Join(",", RepoRecordType.All)} (default: all)." };
        var refresh = new Option<bool>("--refresh") { Description = "Download DIDs already backfilled again." };
        var command = new Command("backfill-repos", "Backfill study participants' repositories from their PDSs into repo_records.")
        {
            database, dids, didsFile, since, until, collections, refresh,
        };
        command.SetAction(PostServiceCli.Verb(environment, async (parse, cancellationToken) =>
        {
            var listed = (parse.GetValue(dids)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [])
                .Concat(parse.GetValue(didsFile) is { } file ? await File.ReadAllLinesAsync(file.FullName, cancellationToken) : [])
                .Select(did => did.Trim()).Where(did => did.Length > 0 && !did.StartsWith('#')).Distinct(StringComparer.Ordinal).ToList();
            var types = parse.GetValue(collections)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (BackfillRequests.Check(listed, parse.GetValue(since), parse.GetValue(until), types) is { } problem)
            {
                throw new CliUsageException(problem + " Give --dids or --dids-file.");
            }
            var request = new BackfillRequest(listed, parse.GetValue(since), parse.GetValue(until), types, parse.GetValue(refresh));
            return await RunAsync(parse.GetValue(database)?.FullName, request, environment, cancellationToken);
        }));
        return command;
    }

    private static async Task<int> RunAsync(string? database, BackfillRequest request, CliEnvironment environment, CancellationToken cancellationToken)
    {
        using var verb = await ForegroundVerb.StartAsync(database, environment, cancellationToken);
        var (host, store, stop) = (verb.Host, verb.Store, verb.Stopping);
        var jobs = host.Services.GetRequiredService<BackfillRepository>();
        await jobs.EnqueueAsync(request, DateTimeOffset.UtcNow, stop);
        var due = (await jobs.ListAsync(request.Dids, stop)).Count(job => job.Status != BackfillStatus.Complete);
        await environment.Output.WriteLineAsync($"{due} of {request.Dids.Count} DIDs to backfill into {store}{(request.Refresh ? " (refresh)" : "")}.");

        var progress = new BackfillProgress();
        var running = host.Services.GetRequiredService<RepoBackfiller>().RunAsync(request.Dids, progress, stop);
        await FollowAsync(environment, progress, due, running);
        try
        {
            await running;
        }
        catch (OperationCanceledException) when (verb.StopRequested)
        {
            await environment.Output.WriteLineAsync("Stopped: DIDs not finished stay enqueued; run the same command again to resume.");
            return ExitCodes.Cancelled;
        }

        var finished = await jobs.ListAsync(request.Dids, CancellationToken.None);
        var table = new Table().AddColumn("did").AddColumn("status").AddColumn(new TableColumn("records").RightAligned())
            .AddColumn(new TableColumn("undated").RightAligned()).AddColumn("rev").AddColumn("error");
        foreach (var job in finished)
        {
            table.AddRow(Markup.Escape(job.Did), job.Status, job.Records.ToString("N0", CultureInfo.InvariantCulture),
                job.Undated.ToString("N0", CultureInfo.InvariantCulture), Markup.Escape(job.Rev ?? ""), Markup.Escape(job.Error ?? ""));
        }
        environment.CreateConsole().Write(table);
        return finished.All(job => job.Status == BackfillStatus.Complete) ? ExitCodes.Ok : ExitCodes.Failed;
    }

    private static async Task FollowAsync(CliEnvironment environment, BackfillProgress progress, int total, Task running)
    {
        var clock = Stopwatch.StartNew();
        string Line() => string.Create(CultureInfo.InvariantCulture,
            $"{progress.Done:N0}/{total:N0} DIDs, {progress.Failed:N0} failed, {progress.Records:N0} records, {progress.Bytes / 1_048_576.0:F1} MB, " +
            $"{(clock.Elapsed.TotalSeconds > 0 ? progress.Records / clock.Elapsed.TotalSeconds : 0):F0} records/s");
        if (!environment.Interactive)
        {
            while (await Task.WhenAny(running, Task.Delay(TimeSpan.FromSeconds(5))) != running)
            {
                await environment.Output.WriteLineAsync(Line());
            }
            await environment.Output.WriteLineAsync(Line());
            return;
        }
        await environment.CreateConsole().Progress().AutoClear(false)
            .Columns(new ProgressBarColumn(), new PercentageColumn(), new TaskDescriptionColumn { Alignment = Justify.Left })
            .StartAsync(async context =>
            {
                var bar = context.AddTask("starting", maxValue: Math.Max(total, 1));
                do
                {
                    bar.Value = progress.Done;
                    bar.Description = Markup.Escape(Line());
                }
                while (await Task.WhenAny(running, Task.Delay(Refresh)) != running);
                bar.Value = progress.Done;
                bar.Description = Markup.Escape(Line());
            });
    }
}
