using System.Data.Common;
using Dapper;

namespace PostService.Storage.Migrations;

/// <summary>Migrations on a PostgreSQL database, which several replicas may start on at once.</summary>
public sealed class PostgresSchemaStore : ISchemaStore
{
    // Replicas that start together migrate one at a time; whoever comes second finds the step recorded and skips it.
    private const string MigrationLock = "SELECT pg_advisory_xact_lock(7316001)";

    public string VersionTableExists => "SELECT to_regclass('schema_version') IS NOT NULL";

    public string CreateVersionTable => """
        CREATE TABLE IF NOT EXISTS schema_version (
            version    integer PRIMARY KEY,
            name       text NOT NULL,
            applied_at timestamptz NOT NULL
        );
        """;

    public string SelectTables => "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename";

    public Task BeginStepAsync(DbConnection connection, DbTransaction transaction) =>
        connection.ExecuteAsync(MigrationLock, transaction: transaction);

    /// <summary>Never: no PostgreSQL step rebuilds a table, and there is no file to back up.</summary>
    public Task<bool> IsDestructiveAsync(IMigration migration, DbConnection connection, CancellationToken cancellationToken) =>
        Task.FromResult(false);

    public Task ApplyAsync(IMigration migration, DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        migration.ApplyPostgresAsync(connection, transaction, cancellationToken);
}
