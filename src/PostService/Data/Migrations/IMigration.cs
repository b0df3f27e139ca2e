using System.Data.Common;

namespace PostService.Data.Migrations;

/// <summary>
/// One explicit schema step. Steps are idempotent (they look at the schema before changing it), so a file that
/// already has part of a step, because an older tool wrote it, migrates to the same result.
/// </summary>
public interface IMigration
{
    int Version { get; }

    string Name { get; }

    Task ApplyAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken);
}
