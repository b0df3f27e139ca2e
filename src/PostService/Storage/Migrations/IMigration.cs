using System.Data.Common;

namespace PostService.Storage.Migrations;

/// <summary>
/// One explicit schema step, written for each store; the migrator runs the side of the configured store. Steps are
/// idempotent (they look at the schema before changing it), so a file that already has part of a step, because an
/// older tool wrote it, migrates to the same result.
/// </summary>
public interface IMigration
{
    int Version { get; }

    string Name { get; }

    /// <summary>
    /// Whether this step would drop or rebuild a table of the SQLite file as it is now, before any step runs. The
    /// migrator backs the file up before a run that includes such a step, and runs the step with foreign key
    /// enforcement off, as SQLite's table rebuild procedure requires.
    /// </summary>
    Task<bool> IsDestructiveAsync(DbConnection connection, CancellationToken cancellationToken) => Task.FromResult(false);

    Task ApplySqliteAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken);

    Task ApplyPostgresAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken);
}

/// <summary>
/// A step that brings a file of the Python tool to the current shape. Such files are SQLite; on PostgreSQL the first
/// steps create the current shape, so there the step is recorded and does nothing.
/// </summary>
public interface ILegacySqliteMigration : IMigration
{
    Task IMigration.ApplyPostgresAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) => Task.CompletedTask;
}
