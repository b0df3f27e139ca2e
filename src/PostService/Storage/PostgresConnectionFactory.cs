using System.Data.Common;
using Microsoft.Extensions.Options;
using Npgsql;

namespace PostService.Storage;

/// <summary>
/// PostgreSQL through one <see cref="NpgsqlDataSource"/> (its pool is shared by requests, the worker and the CLI).
/// Several processes may write at once: a transaction that PostgreSQL aborts to break a deadlock or a serialization
/// conflict is run again from the start, so such an abort never reaches a client.
/// </summary>
public sealed class PostgresConnectionFactory : IDbConnectionFactory, IDisposable
{
    private const int MaxAttempts = 5;
    private readonly NpgsqlDataSource _dataSource;
    private readonly ILogger<PostgresConnectionFactory> _logger;

    public PostgresConnectionFactory(IOptions<DatabaseOptions> options, ILogger<PostgresConnectionFactory> logger)
    {
        var builder = new NpgsqlConnectionStringBuilder(options.Value.ConnectionString);
        Description = $"PostgreSQL {builder.Database ?? builder.Username} on {builder.Host}:{builder.Port}";
        _dataSource = NpgsqlDataSource.Create(builder);
        _logger = logger;
    }

    public string Description { get; }

    public SqlDialect Dialect => SqlDialect.Postgres;

    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken);

    public async Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        using var activity = StorageActivity.StartWrite(Dialect);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                var result = await work(connection, transaction);
                await transaction.CommitAsync(cancellationToken);
                return result;
            }
            catch (PostgresException exception) when (attempt < MaxAttempts
                && exception.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure)
            {
                _logger.LogWarning("PostgreSQL aborted a transaction ({SqlState}); running it again, attempt {Attempt}", exception.SqlState, attempt + 1);
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 50) * attempt), cancellationToken);
            }
        }
    }

    /// <summary>Foreign keys stay on: no PostgreSQL migration rebuilds a table, so none needs them off.</summary>
    public Task<T> WriteWithoutForeignKeysAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken) =>
        WriteAsync(work, cancellationToken);

    public void Dispose() => _dataSource.Dispose();
}
