using System.Data.Common;
using System.Threading.Channels;

namespace PostService.Storage;

/// <summary>
/// Copies the WAL back into the database file (a checkpoint) on a connection of its own, beside the writer rather than
/// inside its commits: once the writer has appended <c>pagesPerCheckpoint</c> pages, a passive checkpoint copies them
/// while writes go on, then a second one, with writes held, copies the few pages appended meanwhile, so that the next
/// transaction starts the WAL over from its beginning: the file holds that many pages and what the writer appended
/// during the first checkpoint. The writer's own automatic checkpoint, at a multiple of that size, still bounds the
/// WAL if these fall behind or fail. A failed checkpoint is logged and tried again at the next.
/// </summary>
internal sealed class SqliteCheckpointer : IDisposable
{
    private const string PassiveCheckpoint = "PRAGMA wal_checkpoint(PASSIVE)";

    private readonly Func<CancellationToken, Task<DbConnection>> _open;
    private readonly SqliteGroupCommit _writes;
    private readonly int _pagesPerCheckpoint;
    private readonly ILogger _logger;
    private readonly Channel<bool> _due = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _checkpoints;
    private long _pagesSinceCheckpoint;

    public SqliteCheckpointer(Func<CancellationToken, Task<DbConnection>> open, SqliteGroupCommit writes, int pagesPerCheckpoint, ILogger logger)
    {
        _open = open;
        _writes = writes;
        _pagesPerCheckpoint = pagesPerCheckpoint;
        _logger = logger;
        _checkpoints = Task.Run(CheckpointWhenDueAsync);
    }

    /// <summary>Called by the writer after each commit with the pages it appended to the WAL.</summary>
    public void Appended(int pages)
    {
        if (Interlocked.Add(ref _pagesSinceCheckpoint, pages) >= _pagesPerCheckpoint)
        {
            Interlocked.Exchange(ref _pagesSinceCheckpoint, 0);
            _due.Writer.TryWrite(true);
        }
    }

    public void Dispose()
    {
        _due.Writer.TryComplete();
        _stopping.Cancel();
        try
        {
            _checkpoints.Wait(TimeSpan.FromSeconds(30));
        }
        catch (AggregateException)
        {
            // Stopped while it waited: the checkpoint at close does the rest.
        }
        _stopping.Dispose();
    }

    private async Task CheckpointWhenDueAsync()
    {
        var stopping = _stopping.Token;
        try
        {
            await foreach (var _ in _due.Reader.ReadAllAsync(stopping))
            {
                try
                {
                    await using var connection = await _open(stopping);
                    await CheckpointAsync(connection, stopping);
                    await _writes.WriteAloneAsync(() => CheckpointAsync(connection, stopping), stopping);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    _logger.LogWarning(exception, "A background checkpoint of the SQLite WAL failed; the next one tries again");
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private static async Task<int> CheckpointAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = PassiveCheckpoint;
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
