using System.Data.Common;
using Dapper;

namespace PostService.Storage.Migrations;

/// <summary>
/// SQLite: ingestion counts the posts it adds in <c>post_counts</c> once per batch, instead of the insert trigger of
/// M006 doing it once per row. That trigger was a third of the cost of storing a new post (profiled, README
/// Performance). The update and delete triggers stay: hydration changes a status one post at a time anyway. On
/// PostgreSQL the triggers run once per statement already, so nothing changes there.
/// </summary>
public sealed class M008_PostCountsByWriters : IMigration
{
    private const string DropInsertTrigger = "DROP TRIGGER IF EXISTS posts_counted_insert";

    public int Version => 8;

    public string Name => "post_counts: SQLite ingestion counts the posts it adds per batch, not a trigger per row";

    public Task ApplySqliteAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(DropInsertTrigger, transaction: transaction);

    /// <summary>Nothing: the statement-level triggers of M006 stay.</summary>
    public Task ApplyPostgresAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        Task.CompletedTask;
}
