using System.CommandLine;
using PostService.Storage;
using PostService.Storage.Migrations;
using Spectre.Console;

namespace PostService.Cli;

/// <summary>
/// <c>migrate --db &lt;path&gt; [--dry-run] [--rollback]</c>: brings a file to the current schema (the service does the
/// same at start), or with <c>--rollback</c> re-adds the legacy author columns. It prints the steps, the backup and
/// every table's row count before and after. A dry run does all of it on a throwaway copy and leaves the file as it is.
/// </summary>
internal static class MigrateCommand
{
    public static Command Create(CliEnvironment environment)
    {
        var database = PostServiceCli.DatabaseOption();
        var dryRun = new Option<bool>("--dry-run") { Description = "Show what would change: migrate a temporary copy, leave the file untouched." };
        var rollback = new Option<bool>("--rollback")
        {
            Description = "Re-add feed_request_posts.post_author_did/post_author_handle, filled from posts, for notebooks that read them.",
        };
        var command = new Command("migrate", "Migrate a database file (e.g. the Python tracker's compliance.db) to the current schema.")
        {
            database, dryRun, rollback,
        };
        command.SetAction(PostServiceCli.Verb(environment, (parse, cancellationToken) =>
            RunAsync(new Request(parse.GetValue(database), parse.GetValue(dryRun), parse.GetValue(rollback)), environment, cancellationToken)));
        return command;
    }

    /// <param name="Database">The SQLite file given with <c>--db</c>; null for the configured database.</param>
    private sealed record Request(FileInfo? Database, bool DryRun, bool Rollback);

    private static async Task<int> RunAsync(Request request, CliEnvironment environment, CancellationToken cancellationToken)
    {
        if (request.Database is null || !request.DryRun)
        {
            return await RunOnAsync(request.Database?.FullName, request, environment, cancellationToken);
        }
        var copyDirectory = Directory.CreateTempSubdirectory("postservice-dry-run-");
        try
        {
            var copy = Path.Combine(copyDirectory.FullName, request.Database.Name);
            await SqliteBackup.CopyReadOnlyAsync(request.Database.FullName, copy, cancellationToken);
            await environment.Output.WriteLineAsync($"Dry run on a copy of {request.Database.FullName}; the file itself is not changed.");
            return await RunOnAsync(copy, request, environment, cancellationToken);
        }
        finally
        {
            copyDirectory.Delete(recursive: true);
        }
    }

    /// <param name="target">The SQLite file to work on (the copy in a dry run); null for the configured database.</param>
    private static async Task<int> RunOnAsync(string? target, Request request, CliEnvironment environment, CancellationToken cancellationToken)
    {
        var (_, dryRun, rollback) = request;
        var output = environment.Output;
        using var host = CliHost.Build(target, environment);
        var connections = host.Services.GetRequiredService<IDbConnectionFactory>();
        var database = request.Database?.FullName ?? connections.Description;
        if (target is null && connections.Dialect.IsPostgres && (dryRun || rollback))
        {
            // No throwaway copy of a server database, and no legacy columns in one.
            await environment.Error.WriteLineAsync($"error: --dry-run and --rollback work on SQLite files (--db); {database} is PostgreSQL.");
            return ExitCodes.Failed;
        }
        var migrator = host.Services.GetRequiredService<Migrator>();
        var before = await migrator.RowCountsAsync(cancellationToken);
        var plan = await migrator.PlanAsync(cancellationToken);

        if (rollback)
        {
            if (plan.Steps.Count > 0)
            {
                await environment.Error.WriteLineAsync(
                    $"error: {database} is not fully migrated (pending steps {string.Join(", ", plan.Steps.Select(step => step.Migration.Version))}); " +
                    "its feed_request_posts still has the author columns, there is nothing to roll back.");
                return ExitCodes.NotMigrated;
            }
            var restored = await host.Services.GetRequiredService<LegacyAuthorColumns>().RestoreAsync(cancellationToken);
            await output.WriteLineAsync($"{(dryRun ? "Would re-add" : "Re-added")} post_author_did and post_author_handle to feed_request_posts: " +
                $"{restored.WithAuthor} of {restored.Rows} rows have an author.");
        }
        else
        {
            await output.WriteLineAsync(plan.Steps.Count == 0 ? "The schema is current; nothing to migrate." : $"{(dryRun ? "Steps it would apply" : "Steps")}:");
            foreach (var (migration, destructive) in plan.Steps)
            {
                await output.WriteLineAsync($"  {migration.Version}. {migration.Name}{(destructive ? " (rebuilds a table of this file)" : "")}");
            }
            var result = await migrator.MigrateAsync(plan, writeBackup: !dryRun, cancellationToken);
            await output.WriteLineAsync((dryRun, plan.NeedsBackup, result.BackupPath) switch
            {
                (true, true, _) => $"Backup: would be written to {database}.bak-<UTC timestamp> before the first step.",
                (false, _, { } backupPath) => $"Backup: {backupPath}",
                _ => "Backup: none needed, no table is rebuilt.",
            });
        }

        environment.CreateConsole().Write(RowCountTable(before, await migrator.RowCountsAsync(cancellationToken)));
        return ExitCodes.Ok;
    }

    private static Table RowCountTable(IReadOnlyList<TableRowCount> before, IReadOnlyList<TableRowCount> after)
    {
        var table = new Table().AddColumn("table").AddColumn(new TableColumn("rows before").RightAligned()).AddColumn(new TableColumn("rows after").RightAligned());
        foreach (var name in before.Concat(after).Select(count => count.Table).Distinct().Order(StringComparer.Ordinal))
        {
            table.AddRow(name, Rows(before, name), Rows(after, name));
        }
        return table;
    }

    private static string Rows(IReadOnlyList<TableRowCount> counts, string table) =>
        counts.FirstOrDefault(count => count.Table == table) is { } count ? count.Rows.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) : "-";
}
