using System.CommandLine;
using System.Globalization;
using PostService.Storage;
using PostService.Storage.Migrations;
using Spectre.Console;

namespace PostService.Cli;

/// <summary>
/// <c>copy --from &lt;sqlite file&gt; --to &lt;postgres connection string&gt;</c>: migrates the file (with its backup, as
/// <c>migrate</c> does) and the PostgreSQL database, copies every row across with a progress bar, and verifies the copy
/// by counting both sides. Run it again after an interruption: it resumes after the last chunk it committed.
/// </summary>
internal static class CopyCommand
{
    private const int ChunkRows = 5_000;

    public static Command Create(CliEnvironment environment)
    {
        var from = new Option<FileInfo>("--from") { Description = "The SQLite file to copy, e.g. compliance.db.", Required = true }.AcceptExistingOnly();
        var to = new Option<string>("--to")
        {
            Description = "The PostgreSQL connection string, e.g. \"Host=db;Database=posts;Username=postservice;Password=...\".",
            Required = true,
        };
        var command = new Command("copy", "Copy a SQLite database (after migrating it) into PostgreSQL; resumable, verified by counts.") { from, to };
        command.SetAction(PostServiceCli.Verb(environment, (parse, cancellationToken) =>
            RunAsync(parse.GetRequiredValue(from).FullName, parse.GetRequiredValue(to), environment, cancellationToken)));
        return command;
    }

    private static async Task<int> RunAsync(string file, string connectionString, CliEnvironment environment, CancellationToken cancellationToken)
    {
        var output = environment.Output;
        using var sourceHost = CliHost.Build(file, environment);
        using var targetHost = CliHost.BuildForPostgres(connectionString, environment);
        foreach (var host in (IHost[])[sourceHost, targetHost])
        {
            var result = await host.Services.GetRequiredService<Migrator>().MigrateAsync(cancellationToken);
            var store = host.Services.GetRequiredService<IDbConnectionFactory>().Description;
            await output.WriteLineAsync(result.Applied.Count == 0
                ? $"{store}: schema current."
                : $"{store}: migrated ({result.Applied.Count} steps){(result.BackupPath is { } backup ? $", backup {backup}" : "")}.");
        }

        var copy = new PostgresCopy(
            (SqliteConnectionFactory)sourceHost.Services.GetRequiredService<IDbConnectionFactory>(),
            (PostgresConnectionFactory)targetHost.Services.GetRequiredService<IDbConnectionFactory>());
        if (await copy.OrphanedRequestIdsAsync(cancellationToken) is { Count: > 0 } orphaned)
        {
            await environment.Error.WriteLineAsync(
                $"error: feed_request_posts in {file} has rows for {orphaned.Count} request ids with no feed_requests row " +
                $"({string.Join(", ", orphaned.Take(10))}{(orphaned.Count > 10 ? ", ..." : "")}); PostgreSQL enforces that reference. " +
                "Add the missing requests to the file, or delete those rows from it, then copy again. Nothing was copied.");
            return ExitCodes.Failed;
        }
        if (await copy.TargetHoldsOtherDataAsync(cancellationToken))
        {
            await environment.Error.WriteLineAsync(
                "error: the PostgreSQL database already holds rows that are not from an earlier copy of this file; copy into an empty database.");
            return ExitCodes.Failed;
        }
        await FollowAsync(environment, progress => copy.CopyAsync(ChunkRows, progress, cancellationToken));

        var counts = await copy.CountAsync(cancellationToken);
        var table = new Table().AddColumn("table").AddColumn(new TableColumn("SQLite rows").RightAligned())
            .AddColumn(new TableColumn("PostgreSQL rows").RightAligned()).AddColumn("check");
        foreach (var count in counts)
        {
            table.AddRow(count.Table, Number(count.Source), Number(count.Target), count.Matches ? "equal" : "DIFFERENT");
        }
        environment.CreateConsole().Write(table);
        if (counts.Any(count => !count.Matches))
        {
            await environment.Error.WriteLineAsync("error: the counts differ; run copy again to resume, or look at the tables above.");
            return ExitCodes.Failed;
        }
        await output.WriteLineAsync("Copied and verified: every table has as many rows in PostgreSQL as in the file.");
        return ExitCodes.Ok;
    }

    /// <summary>A bar per table on a terminal; elsewhere a line per table when it is done.</summary>
    private static async Task FollowAsync(CliEnvironment environment, Func<IProgress<CopyProgress>, Task> copy)
    {
        if (!environment.Interactive)
        {
            var finished = new HashSet<string>();
            await copy(new SynchronousProgress(step =>
            {
                if (step.Copied >= step.Total && finished.Add(step.Table))
                {
                    environment.Output.WriteLine($"{step.Table}: {Number(step.Copied)} rows");
                }
            }));
            return;
        }
        await environment.CreateConsole().Progress().AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn())
            .StartAsync(async context =>
            {
                var bars = PostgresCopy.TableNames.ToDictionary(name => name, name => context.AddTask(name, autoStart: false));
                await copy(new SynchronousProgress(step =>
                {
                    var bar = bars[step.Table];
                    bar.StartTask();
                    bar.MaxValue = Math.Max(step.Total, 1);
                    bar.Value = step.Total == 0 ? 1 : step.Copied;
                    bar.Description = $"{step.Table} {Number(step.Copied)}/{Number(step.Total)}";
                }));
            });
    }

    private static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>Reports on the copying thread, in order (<see cref="Progress{T}"/> would post to the thread pool).</summary>
    private sealed class SynchronousProgress(Action<CopyProgress> report) : IProgress<CopyProgress>
    {
        public void Report(CopyProgress value) => report(value);
    }
}
