using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.Options;
using PostService.Http;
using PostService.Ingestion;
using PostService.Storage;
using PostService.Storage.Migrations;

namespace PostService.Cli;

/// <summary>
/// <c>replay [--from DB] [--to DB] [--since T] [--until T]</c>: applies the logged request bodies (<c>ingest_events</c>) of
/// one database to another, or to itself, in the order they were received, as <c>POST /feed-retrievals</c> stored them:
/// re-sent ids replace, so running it twice changes nothing. Rebuilds a database after a fix, or fills a fresh one.
/// </summary>
internal static class ReplayCommand
{
    private const int PageSize = 100;

    public static Command Create(CliEnvironment environment)
    {
        const string databaseHelp = "A SQLite file path or a PostgreSQL connection string (Host=...;Database=...).";
        var from = new Option<string?>("--from") { Description = "The database holding the log. Default: the configured one. " + databaseHelp };
        var to = new Option<string?>("--to") { Description = "The database to apply it to (created and migrated when new). Default: --from. " + databaseHelp };
        var since = new Option<string?>("--since") { Description = "Only bodies received at or after this ISO-8601 time." };
        var until = new Option<string?>("--until") { Description = "Only bodies received before this ISO-8601 time." };
        var command = new Command("replay", "Re-apply the logged POST /feed-retrievals bodies in order, idempotently.") { from, to, since, until };
        command.SetAction(PostServiceCli.Verb(environment, (parse, cancellationToken) => RunAsync(
            parse.GetValue(from), parse.GetValue(to) ?? parse.GetValue(from), Time(parse.GetValue(since), "--since"), Time(parse.GetValue(until), "--until"),
            environment, cancellationToken)));
        return command;
    }

    private static string? Time(string? value, string option) =>
        value is null ? null
        : DbTime.TryParse(value, out var time) ? DbTime.ToText(time)
        : throw new CliUsageException($"{option} '{value}' is not an ISO-8601 time, e.g. 2025-05-01T12:00:00Z.");

    private static async Task<int> RunAsync(
        string? from, string? to, string? since, string? until, CliEnvironment environment, CancellationToken cancellationToken)
    {
        var inPlace = from == to;
        using var sourceHost = CliHost.BuildFor(from, environment, (services, configuration) => services.AddIngestion(configuration));
        using var targetHost = inPlace ? null : CliHost.BuildFor(to, environment, (services, configuration) => services.AddIngestion(configuration));
        var target = targetHost ?? sourceHost;
        foreach (var host in targetHost is null ? [sourceHost] : (IHost[])[sourceHost, targetHost])
        {
            await host.Services.GetRequiredService<Migrator>().MigrateAsync(cancellationToken);
        }
        var log = sourceHost.Services.GetRequiredService<IngestEventLog>();
        var ingestor = target.Services.GetRequiredService<RetrievalIngestor>();
        var limits = target.Services.GetRequiredService<IOptions<IngestionOptions>>().Value;
        var time = target.Services.GetRequiredService<TimeProvider>();
        var (events, retrievals, failed) = (0, 0L, 0);
        var afterId = 0L;
        while (await log.ReadAsync(afterId, since, until, PageSize, cancellationToken) is { Count: > 0 } page)
        {
            foreach (var logged in page)
            {
                var (stored, error) = await ApplyAsync(logged, ingestor, limits, cancellationToken);
                retrievals += stored?.RequestsStored ?? 0;
                if (error is not null)
                {
                    failed++;
                    await environment.Error.WriteLineAsync($"event {logged.Id} ({logged.ReceivedAt}): {error}");
                }
                if (inPlace)
                {
                    await log.MarkReplayedAsync(logged.Id, time.GetUtcNow(), error, cancellationToken);
                }
                events++;
                afterId = logged.Id;
            }
        }
        var source = sourceHost.Services.GetRequiredService<IDbConnectionFactory>().Description;
        var destination = target.Services.GetRequiredService<IDbConnectionFactory>().Description;
        await environment.Output.WriteLineAsync(
            $"Replayed {events - failed} of {events} logged requests ({retrievals} retrievals) from {source} into {destination}" +
            (failed > 0 ? $"; {failed} failed (above)." : "."));
        return failed == 0 ? ExitCodes.Ok : ExitCodes.Failed;
    }

    /// <summary>What storing the body did, or why it could not be applied; one bad body does not stop the replay.</summary>
    private static async Task<(IngestResponse? Stored, string? Error)> ApplyAsync(LoggedIngestEvent logged, RetrievalIngestor ingestor, IngestionOptions limits, CancellationToken cancellationToken)
    {
        try
        {
            using var document = JsonDocument.Parse(IngestEventLog.Decompress(logged.Body), new JsonDocumentOptions { MaxDepth = JsonBody.MaxDepth });
            var (batch, rejection) = RetrievalBatchParser.Parse(document.RootElement, limits);
            if (rejection is not null)
            {
                return (null, $"{rejection.Title}: {rejection.Detail}");
            }
            DbTime.TryParse(logged.ReceivedAt, out var receivedAt);
            return (await ingestor.ReplayAsync(batch!, receivedAt, cancellationToken), null);
        }
        catch (Exception exception) when (exception is JsonException or InvalidDataException)
        {
            return (null, $"the logged body is unreadable: {exception.Message}");
        }
    }
}
