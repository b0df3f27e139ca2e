using Dapper;
using PostService.Storage;

namespace PostService.Hydration;

/// <summary>Brings <c>post_counts</c> up to date before it is read; one implementation per store (see M006_PostCounts).</summary>
public interface IPostCountsFold
{
    Task FoldAsync(CancellationToken cancellationToken);
}

/// <summary>SQLite: the triggers update <c>post_counts</c> in place, so it is always up to date.</summary>
public sealed class SqlitePostCountsFold : IPostCountsFold
{
    public Task FoldAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>PostgreSQL: the triggers append changes to <c>post_count_deltas</c>; this moves them into the counts.</summary>
public sealed class PostgresPostCountsFold(IDbConnectionFactory connections) : IPostCountsFold
{
    // In key order, so that concurrent folds wait for each other instead of deadlocking.
    private const string FoldDeltas = """
        WITH moved AS (DELETE FROM post_count_deltas RETURNING hydration_status, day, posts, with_author)
        INSERT INTO post_counts AS c (hydration_status, day, posts, with_author)
        SELECT hydration_status, day, sum(posts), sum(with_author) FROM moved GROUP BY hydration_status, day ORDER BY hydration_status, day
        ON CONFLICT (hydration_status, day) DO UPDATE SET posts = c.posts + excluded.posts, with_author = c.with_author + excluded.with_author
        """;

    public Task FoldAsync(CancellationToken cancellationToken) =>
        connections.WriteAsync((connection, transaction) => connection.ExecuteAsync(FoldDeltas, transaction: transaction), cancellationToken);
}
