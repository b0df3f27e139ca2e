using System.Data.Common;

namespace PostService.Storage;

/// <summary>
/// Hands out open connections. A factory rather than a scoped connection, so background workers
/// and CLI verbs use the database the same way requests do.
/// </summary>
public interface IDbConnectionFactory
{
    /// <summary>A human-readable name of the store, for logs and the CLI.</summary>
    string Description { get; }

    /// <summary>How this store's SQL differs from the other's.</summary>
    SqlDialect Dialect { get; }

    Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Runs <paramref name="work"/> in one transaction that commits when it returns and rolls back when it throws.
    /// Writes are serialized here, so concurrent requests queue instead of failing with "database is locked".
    /// </summary>
    Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken);

    /// <summary>
    /// <see cref="WriteAsync{T}"/> with foreign key enforcement off for the transaction, for a migration that rebuilds a
    /// table: rows an older tool left without their parent are kept as they are, not refused.
    /// </summary>
    Task<T> WriteWithoutForeignKeysAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken);
}
