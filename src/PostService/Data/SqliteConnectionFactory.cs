using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using PostService.Options;

namespace PostService.Data;

/// <summary>
/// SQLite file in WAL mode: readers never wait for the writer, and one in-process writer gate
/// keeps this process's writers from contending for the file lock.
/// </summary>
public sealed class SqliteConnectionFactory : IDbConnectionFactory, IDisposable
{
    private readonly string _connectionString;
    private readonly string _pragmas;
    private readonly SemaphoreSlim _writerGate = new(1, 1);

    public SqliteConnectionFactory(IOptions<DatabaseOptions> options)
    {
        var settings = options.Value;
        var fullPath = System.IO.Path.GetFullPath(settings.Path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(fullPath)!);
        FilePath = fullPath;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = fullPath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            ForeignKeys = true,
            DefaultTimeout = Math.Max(1, settings.BusyTimeoutMs / 1000),
        }.ToString();
        // journal_mode is stored in the file; busy_timeout and synchronous are per connection.
        _pragmas = $"PRAGMA journal_mode=WAL; PRAGMA busy_timeout={settings.BusyTimeoutMs}; PRAGMA synchronous={settings.Synchronous.ToUpperInvariant()};";
    }

    public string FilePath { get; }

    public string Description => $"SQLite {FilePath}";

    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = _pragmas;
            await command.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public async Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        await _writerGate.WaitAsync(cancellationToken);
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            // BEGIN IMMEDIATE: take the write lock up front, so another process's writer makes us wait, not fail mid-way.
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var result = await work(connection, transaction);
            await transaction.CommitAsync(cancellationToken);
            return result;
        }
        finally
        {
            _writerGate.Release();
        }
    }

    public void Dispose() => _writerGate.Dispose();
}
