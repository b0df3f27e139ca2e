using System.Data.Common;
using Dapper;

namespace PostService.Storage.Migrations;

/// <summary>
/// Claims on posts (<c>claimed_by</c>, <c>claimed_until</c>), so that processes sharing a database never fetch the same
/// URI at once, and on PostgreSQL the tables of the AppView call budget all replicas share.
/// </summary>
public sealed class M007_HydrationClaims : IMigration
{
    private static readonly (string Name, string Definition)[] ClaimColumns = [("claimed_by", "TEXT"), ("claimed_until", "TEXT")];

    private const string CreateClaimIndex = "CREATE INDEX IF NOT EXISTS idx_posts_claimed_by ON posts(claimed_by) WHERE claimed_by IS NOT NULL;";

    private const string CreatePostgres = """
        ALTER TABLE posts ADD COLUMN IF NOT EXISTS claimed_by text, ADD COLUMN IF NOT EXISTS claimed_until timestamptz;
        CREATE TABLE IF NOT EXISTS appview_calls (
            id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            replica     text NOT NULL,
            granted_at  timestamptz NOT NULL,
            finished_at timestamptz
        );
        CREATE TABLE IF NOT EXISTS appview_pause (
            id           integer PRIMARY KEY CHECK (id = 1),
            paused_until timestamptz NOT NULL
        );
        """;

    public int Version => 7;

    public string Name => "hydration claims on posts; the shared AppView call budget (PostgreSQL)";

    public async Task ApplySqliteAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await SqliteSchema.AddMissingColumnsAsync(connection, transaction, "posts", ClaimColumns);
        await connection.ExecuteAsync(CreateClaimIndex, transaction: transaction);
    }

    public async Task ApplyPostgresAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(CreatePostgres, transaction: transaction);
        await connection.ExecuteAsync(CreateClaimIndex, transaction: transaction);
    }
}
