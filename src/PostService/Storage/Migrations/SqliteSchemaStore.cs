using System.Data.Common;

namespace PostService.Storage.Migrations;

/// <summary>Migrations on a SQLite file, which may be one the Python tool wrote.</summary>
public sealed class SqliteSchemaStore : ISchemaStore
{
    public string VersionTableExists => "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'";

    public string CreateVersionTable => """
        CREATE TABLE IF NOT EXISTS schema_version (
            version    INTEGER PRIMARY KEY,
            name       TEXT NOT NULL,
            applied_at TEXT NOT NULL
        );
        """;

    public string SelectTables => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name";

    /// <summary>Nothing: the file has one writer at a time.</summary>
    public Task BeginStepAsync(DbConnection connection, DbTransaction transaction) => Task.CompletedTask;

    public Task<bool> IsDestructiveAsync(IMigration migration, DbConnection connection, CancellationToken cancellationToken) =>
        migration.IsDestructiveAsync(connection, cancellationToken);

    public Task ApplyAsync(IMigration migration, DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        migration.ApplySqliteAsync(connection, transaction, cancellationToken);
}
