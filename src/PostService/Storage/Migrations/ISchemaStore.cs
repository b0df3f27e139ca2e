using System.Data.Common;

namespace PostService.Storage.Migrations;

/// <summary>What the migrator does differently on SQLite and on PostgreSQL; one implementation per store.</summary>
public interface ISchemaStore
{
    /// <summary>A query answering whether <c>schema_version</c> exists yet.</summary>
    string VersionTableExists { get; }

    /// <summary>Creates <c>schema_version</c> if it is missing.</summary>
    string CreateVersionTable { get; }

    /// <summary>Every table of the database, including those PostService does not own, by name.</summary>
    string SelectTables { get; }

    /// <summary>Runs first in each step's transaction, before the step looks at <c>schema_version</c>.</summary>
    Task BeginStepAsync(DbConnection connection, DbTransaction transaction);

    /// <summary>Whether <paramref name="migration"/> would drop or rebuild a table of the database as it is now.</summary>
    Task<bool> IsDestructiveAsync(IMigration migration, DbConnection connection, CancellationToken cancellationToken);

    /// <summary>Runs this store's side of <paramref name="migration"/>.</summary>
    Task ApplyAsync(IMigration migration, DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken);
}
