using System.CommandLine;
using System.Globalization;
using PostService.Engagements;
using PostService.Storage;
using Spectre.Console;

namespace PostService.Cli;

/// <summary>
/// <c>report engagements [--requester-did D] [--since T] [--until T] [--not-served] [--json]</c>: the rows of
/// <c>GET /engagements</c>, every page; JSON is an array of the API's rows.
/// </summary>
internal static class EngagementsReport
{
    private const int PageSize = 1_000;

    public static Command Create(CliEnvironment environment)
    {
        var database = PostServiceCli.DatabaseOption();
        var json = new Option<bool>("--json") { Description = "Print the rows as a JSON array (the API's shape) for scripts." };
        var requester = new Option<string?>("--requester-did") { Description = "Only this subscriber's engagements." };
        var since = new Option<DateTimeOffset?>("--since") { Description = "Engagements created at or after this time." };
        var until = new Option<DateTimeOffset?>("--until") { Description = "Engagements created before this time." };
        var notServed = new Option<bool>("--not-served") { Description = "Engagements with posts never served to the subscriber before, instead." };
        var command = new Command("engagements", "Subscribers' likes, reposts, replies and quotes, joined to when the post was served to them.")
        {
            database, json, requester, since, until, notServed,
        };
        command.SetAction(PostServiceCli.Verb(environment, async (parse, cancellationToken) =>
        {
            using var host = await ReportCommand.MigratedHostAsync(parse.GetValue(database)?.FullName, environment, cancellationToken);
            if (host is null)
            {
                return ExitCodes.NotMigrated;
            }
            var engagements = host.Services.GetRequiredService<EngagementsRepository>();
            var rows = new List<Engagement>();
            string? after = null;
            IReadOnlyList<Engagement> page;
            do
            {
                page = await engagements.ListAsync(new EngagementFilter(parse.GetValue(requester),
                    parse.GetValue(since) is { } from ? DbTime.ToText(from) : null, parse.GetValue(until) is { } to ? DbTime.ToText(to) : null,
                    !parse.GetValue(notServed), PageSize, after), cancellationToken);
                rows.AddRange(page);
                after = page.Count > 0 ? page[^1].EngagementUri : after;
            }
            while (page.Count == PageSize);
            if (parse.GetValue(json))
            {
                await ReportCommand.WriteJsonAsync(environment, rows);
                return ExitCodes.Ok;
            }
            var table = new Table().AddColumn("requester").AddColumn("type").AddColumn("post").AddColumn("engaged at")
                .AddColumn(new TableColumn("request").RightAligned()).AddColumn(new TableColumn("position").RightAligned())
                .AddColumn(new TableColumn("seconds after served").RightAligned());
            foreach (var row in rows)
            {
                table.AddRow(Markup.Escape(row.RequesterDid), row.EngagementType, Markup.Escape(row.PostUri), row.EngagedAt ?? "",
                    row.RequestId?.ToString(CultureInfo.InvariantCulture) ?? "", row.Position?.ToString(CultureInfo.InvariantCulture) ?? "",
                    row.SecondsAfterServed?.ToString("F0", CultureInfo.InvariantCulture) ?? "");
            }
            environment.CreateConsole().Write(table);
            await environment.Output.WriteLineAsync($"{rows.Count:N0} engagements.");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
