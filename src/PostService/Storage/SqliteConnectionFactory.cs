using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace PostService.Storage;

/// <summary>
/// SQLite file in WAL mode: readers never wait for the writer, and this process's writes go one transaction at a time,
/// several to a transaction (<see cref="SqliteGroupCommit"/>), so they never contend for the file lock.
/// </summary>
public sealed class SqliteConnectionFactory : IDbConnectionFactory, IDisposable
{
    // How many checkpoints' worth of pages the WAL may hold before the writer checkpoints it itself.
    private const int WalBoundInCheckpoints = 4;

    private readonly string _connectionString;
    private readonly string _writerConnectionString;
    private readonly string _pragmas;
    private readonly string _writerPragmas;
    private static readonly object Prepared = new();
    private readonly SqliteGroupCommit _groupCommit;
    private readonly SqliteCheckpointer _checkpointer;
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<SQLitePCL.sqlite3, object> _prepared = [];

    public SqliteConnectionFactory(IOptions<DatabaseOptions> options, ILogger<SqliteConnectionFactory> logger)
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
        // The writer's connection is the group commit's for the life of the process, outside the pool.
        _writerConnectionString = new SqliteConnectionStringBuilder(_connectionString) { Pooling = false }.ToString();
        // journal_mode is stored in the file; busy_timeout and synchronous are per connection.
        _pragmas = $"PRAGMA journal_mode=WAL; PRAGMA busy_timeout={settings.BusyTimeoutMs}; PRAGMA synchronous={settings.Synchronous.ToUpperInvariant()}; PRAGMA wal_autocheckpoint={settings.WalAutoCheckpointPages};";
        // Ingestion looks posts up by URI, a random key: the writer keeps more of that index's pages than a reader needs.
        // A savepoint's journal (a copy of every page a write changes) in memory, not in a temporary file written page by
        // page and deleted at release. Its checkpoints are the checkpointer's; its own, later, only bound the WAL.
        _writerPragmas = $"{_pragmas} PRAGMA cache_size=-{settings.WriterCacheMiB * 1024}; PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint={settings.WalAutoCheckpointPages * WalBoundInCheckpoints};";
        _groupCommit = new SqliteGroupCommit(OpenWriterAsync, pages => _checkpointer!.Appended(pages));
        _checkpointer = new SqliteCheckpointer(OpenAsync, _groupCommit, settings.WalAutoCheckpointPages, logger);
    }

    public string FilePath { get; }

    public string Description => $"SQLite {FilePath}";

    public SqlDialect Dialect => SqlDialect.Sqlite;

    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            // Pragmas stay with the native connection, which the pool hands out again: set them once per native
            // connection (a read then costs no extra statement). Functions go with the managed object: every time.
            if (connection.Handle is { } handle && !_prepared.TryGetValue(handle, out _))
            {
                await ExecuteAsync(connection, _pragmas, cancellationToken);
                _prepared.AddOrUpdate(handle, Prepared);
            }
            AddDialectFunctions(connection);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>The group commit's connection: out of the pool, with the writer's page cache.</summary>
    private async Task<DbConnection> OpenWriterAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_writerConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await ExecuteAsync(connection, _writerPragmas, cancellationToken);
            AddDialectFunctions(connection);
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
        using var activity = StorageActivity.StartWrite(Dialect);
        return await _groupCommit.WriteAsync(work, cancellationToken);
    }

    /// <summary>Alone, outside the shared transactions: the pragma is ignored inside a transaction.</summary>
    public Task<T> WriteWithoutForeignKeysAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken) =>
        _groupCommit.WriteAloneAsync(async () =>
        {
            await using var connection = await OpenAsync(cancellationToken);
            // Off before BEGIN, and on again before the connection goes back to the pool.
            await ExecuteAsync(connection, "PRAGMA foreign_keys = OFF", cancellationToken);
            try
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                var result = await work(connection, transaction);
                await transaction.CommitAsync(cancellationToken);
                return result;
            }
            finally
            {
                await ExecuteAsync(connection, "PRAGMA foreign_keys = ON", CancellationToken.None);
            }
        }, cancellationToken);

    /// <summary>The functions <see cref="SqlDialect"/> promises; on SQLite times and JSON are text already, so they are identities.</summary>
    internal static void AddDialectFunctions(SqliteConnection connection)
    {
        foreach (var name in (string[])["to_ts", "ts_text", "to_json_doc"])
        {
            connection.CreateFunction<object?, object?>(name, value => value, isDeterministic: true);
        }
    }

    private static async Task ExecuteAsync(DbConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Closes the writer's and the pooled connections, so the file is checkpointed and released when the host stops.</summary>
    public void Dispose()
    {
        _checkpointer.Dispose();
        _groupCommit.Dispose();
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
    }
}
