using System.Data.Common;
using Dapper;

namespace PostService.Storage.Migrations;

/// <summary>
/// The refresh schedule: when a post was first served (<c>posts.first_served_at</c>, filled at its first fetch from
/// the earliest request that served it) and when it is next fetched again (<c>posts.next_refresh_at</c>, null when no
/// refresh is ahead), with a partial index so that finding due refreshes reads only scheduled posts; and one on
/// <c>deleted_at</c> for the tombstones per day. Posts hydrated before this step are scheduled at their next fetch.
/// </summary>
public sealed class M013_RefreshSchedule : IMigration
{
    private static readonly (string Name, string Definition)[] PostColumns = [("first_served_at", "TEXT"), ("next_refresh_at", "TEXT")];

    private const string AddPostgresColumns = """
        ALTER TABLE posts ADD COLUMN IF NOT EXISTS first_served_at timestamptz;
        ALTER TABLE posts ADD COLUMN IF NOT EXISTS next_refresh_at timestamptz;
        """;

    // Partial: only scheduled and tombstoned posts are in them, and both are found by time.
    private const string CreateIndex = """
        CREATE INDEX IF NOT EXISTS idx_posts_next_refresh ON posts(next_refresh_at) WHERE next_refresh_at IS NOT NULL;
        CREATE INDEX IF NOT EXISTS idx_posts_deleted_at ON posts(deleted_at) WHERE deleted_at IS NOT NULL;
        """;

    public int Version => 13;

    public string Name => "refresh schedule: posts.first_served_at, posts.next_refresh_at; index on posts.deleted_at";

    public async Task ApplySqliteAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await SqliteSchema.AddMissingColumnsAsync(connection, transaction, "posts", PostColumns);
        await connection.ExecuteAsync(CreateIndex, transaction: transaction);
    }

    public async Task ApplyPostgresAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(AddPostgresColumns, transaction: transaction);
        await connection.ExecuteAsync(CreateIndex, transaction: transaction);
    }
}
