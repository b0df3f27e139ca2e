using System.CommandLine;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using PostService.Storage.Migrations;

namespace PostService.Cli;

/// <summary>
/// The executable's verbs. With no verb, or <c>serve</c>, it runs the web service, passing on the arguments it does
/// not know (<c>--urls</c>, configuration keys; WebApplicationFactory starts it that way too). <c>migrate</c>,
/// <c>hydrate</c>, <c>report</c>, <c>copy</c> and <c>export</c> work on one database and exit with one of <see cref="ExitCodes"/>;
/// <c>healthcheck</c> asks a running service.
/// </summary>
public static class PostServiceCli
{
    public static Task<int> RunAsync(string[] args, CliEnvironment environment, CancellationToken cancellationToken = default)
    {
        var serve = new Command("serve", "Run the web service (the default when no verb is given).") { TreatUnmatchedTokensAsErrors = false };
        serve.SetAction(parse => environment.Serve([.. parse.UnmatchedTokens]));

        var root = new RootCommand("PostService: stores the posts Bluesky feed generators served, and who wrote them.")
        {
            serve,
            MigrateCommand.Create(environment),
            HydrateCommand.Create(environment),
            ReportCommand.Create(environment),
            CopyCommand.Create(environment),
            ExportCommand.Create(environment),
            HealthcheckCommand.Create(environment),
            BackfillReposCommand.Create(environment),
            FirehoseCommand.Create(environment),
            ReplayCommand.Create(environment),
            RebuildHashtagStatsCommand.Create(environment),
        };
        root.TreatUnmatchedTokensAsErrors = false;
        root.SetAction(parse => parse.UnmatchedTokens is [var first, ..] && !first.StartsWith('-')
            ? UnknownVerbAsync(first, environment)
            : environment.Serve([.. parse.UnmatchedTokens]));

        return root.Parse(args).InvokeAsync(new InvocationConfiguration
        {
            Output = environment.Output,
            Error = environment.Error,
            // Exceptions reach the caller (WebApplicationFactory needs the web host's); each verb handles signals itself,
            // because the web host has its own graceful shutdown.
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null,
        }, cancellationToken);
    }

    /// <summary>
    /// <c>--db</c>: an existing SQLite file (the verbs never create one). Without it a verb works on the database the
    /// service is configured with (<c>PostService__Database__*</c>, <c>ConnectionStrings__Posts</c>), e.g. PostgreSQL.
    /// </summary>
    internal static Option<FileInfo> DatabaseOption() =>
        new Option<FileInfo>("--db")
        {
            Description = "The SQLite file, e.g. compliance.db. Default: the configured database (PostService__Database__Provider, ConnectionStrings__Posts).",
        }.AcceptExistingOnly();

    /// <summary>
    /// Runs a verb; failures it can explain (a check that did not add up, bad settings, an unreadable file) become a
    /// one-line message and <see cref="ExitCodes.Failed"/>, anything else propagates with its stack trace.
    /// </summary>
    internal static Func<ParseResult, CancellationToken, Task<int>> Verb(
        CliEnvironment environment, Func<ParseResult, CancellationToken, Task<int>> action) => async (parse, cancellationToken) =>
    {
        try
        {
            return await action(parse, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            await environment.Error.WriteLineAsync("Cancelled.");
            return ExitCodes.Cancelled;
        }
        catch (Exception exception) when (exception is CliUsageException or MigrationCheckException or OptionsValidationException or SqliteException or Npgsql.NpgsqlException or IOException)
        {
            await environment.Error.WriteLineAsync($"error: {exception.Message}");
            return ExitCodes.Failed;
        }
    };

    private static async Task<int> UnknownVerbAsync(string verb, CliEnvironment environment)
    {
        await environment.Error.WriteLineAsync($"error: unknown command '{verb}'; see --help for serve, migrate, hydrate, report, copy, export, healthcheck, backfill-repos, firehose, replay and rebuild-hashtag-stats.");
        return ExitCodes.Failed;
    }
}
