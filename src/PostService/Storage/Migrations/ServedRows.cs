using System.Data.Common;
using Dapper;

namespace PostService.Storage.Migrations;

/// <summary>What must survive a migration of served posts: every (request, URI) pair, every distinct URI, every row without a URI.</summary>
public sealed record ServedCounts(long Pairs, long Uris, long RowsWithoutUri);

/// <summary>The counts the legacy steps check before they commit, over <c>feed_request_posts</c> or its rebuilt copy.</summary>
public static class ServedRows
{
    private const string CountTemplate = """
        SELECT (SELECT count(*) FROM (SELECT DISTINCT request_id, post_uri FROM {0} WHERE post_uri IS NOT NULL)) AS Pairs,
               (SELECT count(DISTINCT post_uri) FROM {0}) AS Uris,
               (SELECT count(*) FROM {0} WHERE post_uri IS NULL) AS RowsWithoutUri
        """;

    private const string CountUrisWithoutPostTemplate = """
        SELECT count(*) FROM (SELECT DISTINCT post_uri FROM {0} WHERE post_uri IS NOT NULL) served
        WHERE NOT EXISTS (SELECT 1 FROM posts p WHERE p.post_uri = served.post_uri)
        """;

    public static Task<ServedCounts> CountAsync(DbConnection connection, DbTransaction transaction, string table) =>
        connection.QuerySingleAsync<ServedCounts>(string.Format(CountTemplate, table), transaction: transaction);

    /// <summary>Fails the step unless every distinct URI served in <paramref name="table"/> has its <c>posts</c> row.</summary>
    public static async Task EnsureEveryUriHasPostAsync(DbConnection connection, DbTransaction transaction, string table, int version)
    {
        var missing = await connection.ExecuteScalarAsync<long>(string.Format(CountUrisWithoutPostTemplate, table), transaction: transaction);
        if (missing > 0)
        {
            throw new MigrationCheckException(
                $"Migration {version} stopped and changed nothing: {missing} distinct URIs in {table} have no row in posts.");
        }
    }
}
