using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using PostService.Exports;
using PostService.Storage;
using PostService.Storage.Migrations;
using Spectre.Console;

namespace PostService.Cli;

/// <summary>
/// <c>export {dataset} --format parquet|csv --out FILE [--db path] [filters]</c>: what <c>GET /exports/{dataset}.parquet</c>
/// serves, into a file, with a progress bar on a terminal. The file appears under its name only when complete.
/// </summary>
internal static class ExportCommand
{
    public static Command Create(CliEnvironment environment)
    {
        var dataset = new Argument<string>("dataset") { Description = "The dataset: " + string.Join(", ", ExportDatasets.All.Select(known => known.Name)) + "." };
        dataset.AcceptOnlyFromAmong([.. ExportDatasets.All.Select(known => known.Name)]);
        var format = new Option<ExportFormat>("--format") { Description = "parquet (the default) or csv.", DefaultValueFactory = _ => ExportFormat.Parquet };
        var output = new Option<FileInfo>("--out") { Description = "The file to write (replaced if it exists).", Required = true };
        var database = PostServiceCli.DatabaseOption();
        var requester = new Option<string?>("--requester-did") { Description = "Only feed requests of this requester (engagements: by this subscriber)." };
        var algo = new Option<string?>("--algo") { Description = "Only feed requests of this feed algorithm (not for engagements)." };
        var since = new Option<string?>("--since") { Description = "Only feeds served (engagements: made) at or after this time (ISO-8601)." };
        var until = new Option<string?>("--until") { Description = "Only feeds served (engagements: made) before this time (ISO-8601)." };
        var command = new Command("export", "Export a dataset (exposures, posts, engagements) as a Parquet or CSV file for pandas, R or DuckDB.")
        {
            dataset, format, output, database, requester, algo, since, until,
        };
        command.SetAction(PostServiceCli.Verb(environment, (parse, cancellationToken) =>
        {
            var chosen = ExportDatasets.Find(parse.GetValue(dataset)!)!;
            var filter = ExportFilter.TryCreate(chosen, parse.GetValue(requester), parse.GetValue(algo), parse.GetValue(since), parse.GetValue(until), out var error)
                ?? throw new CliUsageException(error!);
            return RunAsync(chosen, parse.GetValue(format), parse.GetValue(output)!.FullName,
                parse.GetValue(database)?.FullName, filter, environment, cancellationToken);
        }));
        return command;
    }

    private static async Task<int> RunAsync(ExportDataset dataset, ExportFormat format, string path, string? database, ExportFilter filter,
        CliEnvironment environment, CancellationToken cancellationToken)
    {
        using var host = CliHost.Build(database, environment);
        var store = database ?? host.Services.GetRequiredService<IDbConnectionFactory>().Description;
        if ((await host.Services.GetRequiredService<Migrator>().PlanAsync(cancellationToken)).Steps.Count > 0)
        {
            await environment.Error.WriteLineAsync($"error: {store} needs migrating first: postservice migrate{(database is null ? "" : $" --db {database}")}");
            return ExitCodes.NotMigrated;
        }
        var exporter = host.Services.GetRequiredService<Exporter>();
        var clock = Stopwatch.StartNew();
        var partial = path + ".partial";
        long rows;
        try
        {
            await using (var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16, useAsync: true))
            {
                rows = environment.Interactive
                    ? await WithProgressBarAsync(environment.CreateConsole(), await exporter.CountAsync(dataset, filter, cancellationToken),
                        progress => exporter.WriteAsync(dataset, format, filter, file, progress, cancellationToken))
                    : await exporter.WriteAsync(dataset, format, filter, file, progress: null, cancellationToken);
            }
            File.Move(partial, path, overwrite: true);
        }
        finally
        {
            File.Delete(partial);
        }
        await environment.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"Exported {rows:N0} {dataset.Name} rows from {store} to {path} in {clock.Elapsed.TotalSeconds:F1} s."));
        return ExitCodes.Ok;
    }

    private static Task<long> WithProgressBarAsync(IAnsiConsole console, long total, Func<IProgress<long>, Task<long>> export) =>
        console.Progress()
            .AutoClear(false)
            .Columns(new ProgressBarColumn(), new PercentageColumn(), new TaskDescriptionColumn { Alignment = Justify.Left })
            .StartAsync(async context =>
            {
                var bar = context.AddTask("rows", maxValue: Math.Max(total, 1));
                var rows = await export(new Progress<long>(written =>
                {
                    bar.Value = written;
                    bar.Description = string.Create(CultureInfo.InvariantCulture, $"{written:N0}/{total:N0} rows");
                }));
                bar.Value = bar.MaxValue;
                return rows;
            });
}
