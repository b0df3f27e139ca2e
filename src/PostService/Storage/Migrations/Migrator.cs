using System.Data.Common;
using Dapper;

namespace PostService.Storage.Migrations;

public sealed record AppliedMigration(int Version, string Name);

/// <summary>A step the file still needs, and whether it drops or rebuilds one of the file's tables.</summary>
public sealed record PlannedMigration(IMigration Migration, bool Destructive);

public sealed record MigrationPlan(IReadOnlyList<PlannedMigration> Steps)
{
    public bool NeedsBackup => Steps.Any(step => step.Destructive);
}

/// <summary>What a migration run did; <paramref name="BackupPath"/> is null when no step was destructive.</summary>
public sealed record MigrationResult(IReadOnlyList<AppliedMigration> Applied, string? BackupPath);

public sealed record TableRowCount(string Table, long Rows);

/// <summary>
/// Applies every migration the database has not recorded, in version order, each in its own transaction together
/// with its row in <c>schema_version</c>, so a run cut short at any point resumes at the step it did not finish.
/// Before a run that includes a destructive step it backs the file up. The service runs it at start; the CLI runs
/// the same code.
/// </summary>
public sealed class Migrator(
    IDbConnectionFactory connections, ISchemaStore store, IEnumerable<IMigration> migrations, SqliteBackup backup, ILogger<Migrator> logger)
{
    private const string SelectApplied = "SELECT version FROM schema_version";

    private const string IsApplied = "SELECT count(*) FROM schema_version WHERE version = @Version";

    private const string InsertApplied = "INSERT INTO schema_version (version, name, applied_at) VALUES (@Version, @Name, to_ts(@AppliedAt)) ON CONFLICT(version) DO NOTHING";

    private readonly IReadOnlyList<IMigration> _migrations = migrations.OrderBy(m => m.Version).ToList();

    /// <summary>The steps the file needs, each asked about the file as it is now.</summary>
    public async Task<MigrationPlan> PlanAsync(CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var applied = await connection.ExecuteScalarAsync<bool>(store.VersionTableExists)
            ? (await connection.QueryAsync<int>(SelectApplied)).ToHashSet()
            : [];
        var steps = new List<PlannedMigration>();
        foreach (var migration in _migrations.Where(m => !applied.Contains(m.Version)))
        {
            steps.Add(new PlannedMigration(migration, await store.IsDestructiveAsync(migration, connection, cancellationToken)));
        }
        return new MigrationPlan(steps);
    }

    public async Task<MigrationResult> MigrateAsync(CancellationToken cancellationToken) =>
        await MigrateAsync(await PlanAsync(cancellationToken), writeBackup: true, cancellationToken);

    /// <param name="plan">From <see cref="PlanAsync"/>, just before.</param>
    /// <param name="writeBackup">False only for a throwaway copy, as a dry run migrates.</param>
    public async Task<MigrationResult> MigrateAsync(MigrationPlan plan, bool writeBackup, CancellationToken cancellationToken)
    {
        string? backupPath = null;
        if (writeBackup && plan.NeedsBackup)
        {
            // Before the first step rather than just before the destructive one: the backup is the file as the older tool left it.
            backupPath = await backup.WriteAsync(cancellationToken);
            logger.LogInformation("Backed up {Database} to {BackupPath} before migrating it", connections.Description, backupPath);
        }
        var applied = new List<AppliedMigration>();
        foreach (var (migration, destructive) in plan.Steps)
        {
            Func<DbConnection, DbTransaction, Task<int>> step = async (connection, transaction) =>
            {
                await store.BeginStepAsync(connection, transaction);
                await connection.ExecuteAsync(store.CreateVersionTable, transaction: transaction);
                if (await connection.ExecuteScalarAsync<long>(IsApplied, new { migration.Version }, transaction) > 0)
                {
                    return 0;
                }
                await store.ApplyAsync(migration, connection, transaction, cancellationToken);
                await connection.ExecuteAsync(InsertApplied,
                    new { migration.Version, migration.Name, AppliedAt = DbTime.ToText(DateTimeOffset.UtcNow) }, transaction);
                return 0;
            };
            await (destructive ? connections.WriteWithoutForeignKeysAsync(step, cancellationToken) : connections.WriteAsync(step, cancellationToken));
            logger.LogInformation("Applied migration {Version}: {Name} on {Database}", migration.Version, migration.Name, connections.Description);
            applied.Add(new AppliedMigration(migration.Version, migration.Name));
        }
        return new MigrationResult(applied, backupPath);
    }

    /// <summary>Every table of the database, including those PostService does not own, with its row count.</summary>
    public async Task<IReadOnlyList<TableRowCount>> RowCountsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var counts = new List<TableRowCount>();
        var tables = await connection.QueryAsync<string>(new CommandDefinition(store.SelectTables, cancellationToken: cancellationToken));
        foreach (var table in tables.AsList())
        {
            var quoted = "\"" + table.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
            var rows = await connection.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT count(*) FROM {quoted}", cancellationToken: cancellationToken));
            counts.Add(new TableRowCount(table, rows));
        }
        return counts;
    }
}
