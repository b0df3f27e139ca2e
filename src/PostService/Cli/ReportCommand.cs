using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PostService.Hosting;
using PostService.Hydration;
using PostService.Storage;
using PostService.Storage.Migrations;
using Spectre.Console;

namespace PostService.Cli;

/// <summary>
/// <c>report --db &lt;path&gt; [--json]</c>: hydration coverage, as <c>GET /hydration/coverage</c> answers it: totals by
/// status, coverage percentage, not_found/error per day. Read-only: a file that still needs migrating is refused.
/// </summary>
internal static class ReportCommand
{
    public static Command Create(CliEnvironment environment)
    {
        var database = PostServiceCli.DatabaseOption();
        var json = new Option<bool>("--json") { Description = "Print the report as JSON (the API's shape) for scripts." };
        var command = new Command("report", "Show hydration coverage: totals by status, coverage %, failures per day.")
        {
            database, json, EngagementsReport.Create(environment),
        };
        command.SetAction(PostServiceCli.Verb(environment, (parse, cancellationToken) =>
            RunAsync(parse.GetValue(database)?.FullName, parse.GetValue(json), environment, cancellationToken)));
        return command;
    }

    /// <summary>A host on a database that is fully migrated, or null after saying it needs migrating (a report never migrates).</summary>
    internal static async Task<IHost?> MigratedHostAsync(string? database, CliEnvironment environment, CancellationToken cancellationToken)
    {
        var host = CliHost.Build(database, environment);
        var store = database ?? host.Services.GetRequiredService<IDbConnectionFactory>().Description;
        if ((await host.Services.GetRequiredService<Migrator>().PlanAsync(cancellationToken)).Steps.Count > 0)
        {
            await environment.Error.WriteLineAsync($"error: {store} needs migrating first: postservice migrate{(database is null ? "" : $" --db {database}")}");
            host.Dispose();
            return null;
        }
        return host;
    }

    internal static async Task WriteJsonAsync(CliEnvironment environment, object value)
    {
        var options = new JsonSerializerOptions { WriteIndented = true };
        PostServiceRegistration.ConfigureJson(options);
        await environment.Output.WriteLineAsync(JsonSerializer.Serialize(value, options));
    }

    private static async Task<int> RunAsync(string? database, bool json, CliEnvironment environment, CancellationToken cancellationToken)
    {
        using var host = await MigratedHostAsync(database, environment, cancellationToken);
        if (host is null)
        {
            return ExitCodes.NotMigrated;
        }
        var coverage = await host.Services.GetRequiredService<CoverageQueries>()
            .GetAsync(host.Services.GetRequiredService<TimeProvider>().GetUtcNow(), CoverageQueries.TrendDays, cancellationToken);
        if (json)
        {
            await WriteJsonAsync(environment, coverage);
        }
        else
        {
            await WriteAsync(environment, coverage);
        }
        return ExitCodes.Ok;
    }

    private static async Task WriteAsync(CliEnvironment environment, HydrationCoverage coverage)
    {
        var console = environment.CreateConsole();
        var statuses = new Table().AddColumn("status").AddColumn(new TableColumn("posts").RightAligned());
        foreach (var (status, count) in coverage.ByStatus)
        {
            statuses.AddRow(status, Number(count));
        }
        statuses.AddRow("total", Number(coverage.TotalPosts));
        console.Write(statuses);
        await environment.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"Coverage: {coverage.CoveragePct:F2}% ({Number(coverage.WithAuthor)} posts with an author, of those with a valid URI)"));

        var reasons = new Table().AddColumn("not_found reason").AddColumn(new TableColumn("posts").RightAligned());
        foreach (var (reason, count) in coverage.NotFoundByReason)
        {
            reasons.AddRow(reason, Number(count));
        }
        console.Write(reasons);

        await environment.Output.WriteLineAsync($"Failures per day (by last attempt), last {CoverageQueries.TrendDays} days:");
        var trend = new Table()
            .AddColumn("day").AddColumn(new TableColumn("not_found").RightAligned()).AddColumn(new TableColumn("error").RightAligned());
        foreach (var day in coverage.FailureTrend)
        {
            trend.AddRow(day.Day, Number(day.NotFound), Number(day.Error));
        }
        if (coverage.FailureTrend.Count == 0)
        {
            trend.AddRow("none", "0", "0");
        }
        console.Write(trend);
    }

    private static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
