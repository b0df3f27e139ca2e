using Dapper;

namespace PostService.Storage.Migrations;

/// <summary>What <see cref="LegacyAuthorColumns.RestoreAsync"/> did: rows in <c>feed_request_posts</c>, and how many got an author DID.</summary>
public sealed record AuthorColumnsRestored(long Rows, long WithAuthor);

/// <summary>
/// The rollback for notebooks that still read <c>feed_request_posts.post_author_did</c>/<c>post_author_handle</c>:
/// adds the two columns back and fills them from <c>posts</c>. It leaves the rest of the schema as it is, so the
/// service keeps working on the file; the columns are a snapshot, refreshed by running it again.
/// </summary>
public sealed class LegacyAuthorColumns(IDbConnectionFactory connections)
{
    private static readonly (string Name, string Definition)[] Columns = [("post_author_did", "TEXT"), ("post_author_handle", "TEXT")];

    private const string FillFromPosts = """
        UPDATE feed_request_posts SET post_author_did = p.author_did, post_author_handle = p.author_handle
        FROM posts p
        WHERE p.post_uri = feed_request_posts.post_uri
        """;

    private const string CountFilled = """
        SELECT count(*) AS Rows, count(post_author_did) AS WithAuthor FROM feed_request_posts
        """;

    public Task<AuthorColumnsRestored> RestoreAsync(CancellationToken cancellationToken) =>
        connections.WriteAsync(async (connection, transaction) =>
        {
            await SqliteSchema.AddMissingColumnsAsync(connection, transaction, "feed_request_posts", Columns);
            await connection.ExecuteAsync(new CommandDefinition(FillFromPosts, transaction: transaction, cancellationToken: cancellationToken));
            return await connection.QuerySingleAsync<AuthorColumnsRestored>(
                new CommandDefinition(CountFilled, transaction: transaction, cancellationToken: cancellationToken));
        }, cancellationToken);
}
