using System.Data.Common;
using Dapper;

namespace PostService.Storage.Migrations;

/// <summary>
/// Gives every URI the Python tool served its <c>posts</c> row. The author comes from the legacy
/// <c>post_author_did</c>/<c>post_author_handle</c> columns where they hold it, else from an <c>author</c> object in
/// <c>post_json</c>; the CID from <c>post_json</c>. Each value is taken from the latest served row that has it. A post
/// with both author DID and handle is <c>ok</c> with <c>metadata_source = 'legacy'</c>; the rest are <c>pending</c>
/// and hydrate normally. Rows that already exist (files the newer Python tool wrote) are left as they are.
/// </summary>
public sealed class M003_PostsFromServedUris : ILegacySqliteMigration
{
    private const string Table = "feed_request_posts";

    // {0}: the cid expression, {1}/{2}: the legacy author columns or NULL, {3}/{4}: the author in post_json.
    // "WHERE true" lets SQLite tell the upsert's ON CONFLICT from a join constraint.
    private const string InsertPostsTemplate = """
        INSERT INTO posts (post_uri, cid, author_did, author_handle, hydration_status, metadata_source)
        SELECT post_uri, cid, author_did, author_handle,
               CASE WHEN author_did IS NOT NULL AND author_handle IS NOT NULL THEN 'ok' ELSE 'pending' END,
               CASE WHEN author_did IS NOT NULL AND author_handle IS NOT NULL THEN 'legacy' END
        FROM (
            SELECT u.post_uri,
                   {0} AS cid,
                   coalesce({1}, {3}) AS author_did,
                   coalesce({2}, {4}) AS author_handle
            FROM (SELECT DISTINCT post_uri FROM feed_request_posts WHERE post_uri IS NOT NULL) u
        )
        WHERE true
        ON CONFLICT (post_uri) DO NOTHING
        """;

    public int Version => 3;

    public string Name => "posts for every served URI, with the author the legacy rows carry";

    public async Task ApplySqliteAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        var columns = await SqliteSchema.ColumnsAsync(connection, transaction, Table);
        string LegacyColumn(string name) => columns.Contains(name) ? Latest($"nullif(f.{name}, '')") : "NULL";

        var insert = string.Format(InsertPostsTemplate,
            Latest(JsonText("$.cid")),
            LegacyColumn("post_author_did"), LegacyColumn("post_author_handle"),
            Latest(JsonText("$.author.did")), Latest(JsonText("$.author.handle")));
        await connection.ExecuteAsync(new CommandDefinition(insert, transaction: transaction, cancellationToken: cancellationToken));
        await ServedRows.EnsureEveryUriHasPostAsync(connection, transaction, Table, Version);
    }

    /// <summary>The value from the latest row served with the URI that has one (rowid order is insertion order).</summary>
    private static string Latest(string expression) =>
        $"(SELECT {expression} FROM feed_request_posts f WHERE f.post_uri = u.post_uri AND {expression} IS NOT NULL ORDER BY f.rowid DESC LIMIT 1)";

    /// <summary>A non-empty string at <paramref name="path"/> of <c>post_json</c>; NULL for NULL, malformed JSON or another type.</summary>
    private static string JsonText(string path) =>
        $"CASE WHEN json_valid(f.post_json) THEN CASE WHEN json_type(f.post_json, '{path}') = 'text' THEN nullif(json_extract(f.post_json, '{path}'), '') END END";
}
