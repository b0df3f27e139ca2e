using System.Data.Common;
using Dapper;

namespace PostService.Storage.Migrations;

/// <summary>
/// Brings a legacy <c>feed_request_posts</c> to its current shape: without the author columns (now in <c>posts</c>;
/// SQLite cannot drop an indexed column in place), with <c>id</c> and <c>UNIQUE(request_id, post_uri)</c>, keeping the
/// latest row of each (request, URI) pair as the Python tool's INSERT OR REPLACE did. It follows SQLite's table
/// rebuild procedure: create the new table, copy, check the counts, drop the old one, rename, recreate its indexes.
/// </summary>
public sealed class M005_RebuildFeedRequestPosts : ILegacySqliteMigration
{
    private const string Table = "feed_request_posts";
    private const string NewTable = "feed_request_posts_new";
    private static readonly string[] LegacyColumns = ["post_author_did", "post_author_handle"];

    private const string CreateNewTable = "CREATE TABLE " + NewTable + " " + M001_CoreTables.FeedRequestPostsDefinition;

    // rowid is the legacy id where the table has one, else its insertion order: it keeps the order rows were served in.
    // Rows without a URI are distinct items, as they are under the UNIQUE constraint.
    private const string CopyLatestRows = """
        INSERT INTO feed_request_posts_new (id, request_id, post_index, post_uri, post_json)
        SELECT rowid, request_id, post_index, post_uri, post_json FROM feed_request_posts
        WHERE post_uri IS NULL
           OR rowid IN (SELECT max(rowid) FROM feed_request_posts WHERE post_uri IS NOT NULL GROUP BY request_id, post_uri)
        """;

    private const string ReplaceOldTable = """
        DROP TABLE feed_request_posts;
        ALTER TABLE feed_request_posts_new RENAME TO feed_request_posts;
        """;

    public int Version => 5;

    public string Name => "feed_request_posts rebuilt without author columns, one row per (request, URI)";

    public Task<bool> IsDestructiveAsync(DbConnection connection, CancellationToken cancellationToken) =>
        NeedsRebuildAsync(connection, transaction: null);

    public async Task ApplySqliteAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        if (!await NeedsRebuildAsync(connection, transaction))
        {
            return;
        }
        await connection.ExecuteAsync(CreateNewTable, transaction: transaction);
        await connection.ExecuteAsync(new CommandDefinition(CopyLatestRows, transaction: transaction, cancellationToken: cancellationToken));

        var before = await ServedRows.CountAsync(connection, transaction, Table);
        var after = await ServedRows.CountAsync(connection, transaction, NewTable);
        if (after != before)
        {
            throw new MigrationCheckException(
                $"Migration {Version} stopped and dropped nothing: {Table} has {before.Pairs} (request, URI) pairs, {before.Uris} distinct URIs " +
                $"and {before.RowsWithoutUri} rows without URI, the rebuilt table {after.Pairs}, {after.Uris} and {after.RowsWithoutUri}.");
        }
        await ServedRows.EnsureEveryUriHasPostAsync(connection, transaction, NewTable, Version);

        await connection.ExecuteAsync(ReplaceOldTable, transaction: transaction);
        await connection.ExecuteAsync(M001_CoreTables.CreateFeedRequestPostsIndexes, transaction: transaction);
    }

    private static async Task<bool> NeedsRebuildAsync(DbConnection connection, DbTransaction? transaction)
    {
        if (!await SqliteSchema.TableExistsAsync(connection, transaction, Table))
        {
            return false;
        }
        var columns = await SqliteSchema.ColumnsAsync(connection, transaction, Table);
        return LegacyColumns.Any(columns.Contains) || !columns.Contains("id")
            || !await SqliteSchema.HasUniqueKeyAsync(connection, transaction, Table, "request_id", "post_uri");
    }
}
