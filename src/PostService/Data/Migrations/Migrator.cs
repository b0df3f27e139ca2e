using Dapper;

namespace PostService.Data.Migrations;

public sealed record AppliedMigration(int Version, string Name);

/// <summary>
/// Applies every migration the database has not recorded, in version order, each in its own transaction together
/// with its row in <c>schema_version</c>. The service runs it at start; the CLI runs the same code.
/// </summary>
public sealed class Migrator(IDbConnectionFactory connections, IEnumerable<IMigration> migrations, ILogger<Migrator> logger)
{
    private const string CreateVersionTable = """
        CREATE TABLE IF NOT EXISTS schema_version (
            version    INTEGER PRIMARY KEY,
            name       TEXT NOT NULL,
            applied_at TEXT NOT NULL
        );
        """;

    private const string SelectApplied = "SELECT version FROM schema_version";

    private const string InsertApplied = "INSERT INTO schema_version (version, name, applied_at) VALUES (@Version, @Name, @AppliedAt) ON CONFLICT(version) DO NOTHING";

    private readonly IReadOnlyList<IMigration> _migrations = migrations.OrderBy(m => m.Version).ToList();

    public async Task<IReadOnlyList<IMigration>> PendingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var hasTable = await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'") > 0;
        var applied = hasTable ? (await connection.QueryAsync<int>(SelectApplied)).ToHashSet() : [];
        return _migrations.Where(m => !applied.Contains(m.Version)).ToList();
    }

    public async Task<IReadOnlyList<AppliedMigration>> MigrateAsync(CancellationToken cancellationToken)
    {
        var applied = new List<AppliedMigration>();
        foreach (var migration in await PendingAsync(cancellationToken))
        {
            await connections.WriteAsync(async (connection, transaction) =>
            {
                await connection.ExecuteAsync(CreateVersionTable, transaction: transaction);
                await migration.ApplyAsync(connection, transaction, cancellationToken);
                await connection.ExecuteAsync(InsertApplied,
                    new { migration.Version, migration.Name, AppliedAt = DbTime.ToText(DateTimeOffset.UtcNow) }, transaction);
                return 0;
            }, cancellationToken);
            logger.LogInformation("Applied migration {Version}: {Name} on {Database}", migration.Version, migration.Name, connections.Description);
            applied.Add(new AppliedMigration(migration.Version, migration.Name));
        }
        return applied;
    }
}
