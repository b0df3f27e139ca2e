using System.Data.Common;
using Dapper;

namespace PostService.Storage.Migrations;

/// <summary>
/// The hydration sweep's index follows the order posts were stored instead of their URIs: <c>posts(hydration_status)</c>
/// on SQLite, whose entries end with the rowid, and <c>posts(hydration_status, post_id)</c> on PostgreSQL, in place of
/// <c>posts(hydration_status, post_uri)</c>. Why: every new post added an entry at a random place of the URI-ordered
/// index; now new posts are appended to the end of the <c>pending</c> entries, and a hydrated post moves to near the
/// end of its new status's (issue 13). The sweep pages by <c>SqlDialect.StorageOrder</c>.
/// </summary>
public sealed class M015_StatusIndexInStorageOrder : IMigration
{
    private const string SqliteIndex = """
        CREATE INDEX IF NOT EXISTS idx_posts_status_order ON posts(hydration_status);
        DROP INDEX IF EXISTS idx_posts_status_uri;
        """;

    private const string PostgresIndex = """
        CREATE INDEX IF NOT EXISTS idx_posts_status_order ON posts(hydration_status, post_id);
        DROP INDEX IF EXISTS idx_posts_status_uri;
        """;

    public int Version => 15;

    public string Name => "the hydration sweep's index in the order posts were stored, instead of by URI";

    public Task ApplySqliteAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(SqliteIndex, transaction: transaction);

    public Task ApplyPostgresAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(PostgresIndex, transaction: transaction);
}
