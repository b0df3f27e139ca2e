using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace PostService.Storage;

/// <summary>
/// The writes of one process to a SQLite file, one transaction at a time, with group commit: writes that arrive while
/// a transaction is being written wait, and the next writer runs all of them, each in turn (in a savepoint of its own
/// when there are several), in one transaction. A commit (the fsync, the WAL frames of the pages several writes touch)
/// cost as much as storing a request's rows, so ingestion requests and hydration's claims and outcomes
/// share it instead of queueing for one each. A write that fails is rolled back to its savepoint and fails alone; every
/// write still returns only after the transaction holding it committed; when a shared transaction fails to begin or
/// commit, its writes run again one by one, so a failure stays with its write. The transactions run on one connection
/// kept for the life of the process (<paramref name="openWriter"/>): its page cache stays valid from one transaction to
/// the next, where a pooled connection's would be dropped whenever another had written since it last ran. After each
/// commit, <paramref name="appended"/> hears how many pages it added to the WAL.
/// </summary>
internal sealed class SqliteGroupCommit(Func<CancellationToken, Task<DbConnection>> openWriter, Action<int> appended) : IDisposable
{
    // Bounds one transaction; a larger backlog waits for the next one.
    private const int MaxWritesPerTransaction = 16;

    private const string Savepoint = "write";

    private readonly ConcurrentQueue<PendingWrite> _waiting = new();
    private readonly SemaphoreSlim _writerTurn = new(1, 1);

    // Used only by the holder of _writerTurn; replaced after a transaction that failed, in case the failure was the connection's.
    private DbConnection? _writer;

    public async Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        var pending = new PendingWrite<T>(work);
        _waiting.Enqueue(pending);
        try
        {
            await _writerTurn.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (pending.TryCancel())
        {
            throw;
        }
        catch (OperationCanceledException)
        {
            // Another writer took it already: its outcome is the answer.
            return await pending.Outcome;
        }
        try
        {
            // An earlier writer may have taken this write along with its own; a long queue may need several transactions.
            while (!pending.Outcome.IsCompleted)
            {
                await WriteWaitingAsync(cancellationToken);
            }
        }
        finally
        {
            _writerTurn.Release();
        }
        return await pending.Outcome;
    }

    /// <summary>Runs <paramref name="exclusive"/> while no other write runs, outside any shared transaction.</summary>
    public async Task<T> WriteAloneAsync<T>(Func<Task<T>> exclusive, CancellationToken cancellationToken)
    {
        await _writerTurn.WaitAsync(cancellationToken);
        try
        {
            return await exclusive();
        }
        finally
        {
            _writerTurn.Release();
        }
    }

    /// <summary>Closes the writer's connection once the write in progress, if any, has finished.</summary>
    public void Dispose()
    {
        if (_writerTurn.Wait(TimeSpan.FromSeconds(30)))
        {
            _writer?.Dispose();
            _writer = null;
        }
        _writerTurn.Dispose();
    }

    /// <summary>Everything waiting, up to the bound, in arrival order, in one transaction.</summary>
    private async Task WriteWaitingAsync(CancellationToken cancellationToken)
    {
        var group = new List<PendingWrite>();
        while (group.Count < MaxWritesPerTransaction && _waiting.TryDequeue(out var next))
        {
            if (next.TryTake())
            {
                group.Add(next);
            }
        }
        try
        {
            await WriteTogetherAsync(group, group.Count == 1 ? cancellationToken : CancellationToken.None);
        }
        catch (Exception) when (group.Count > 1)
        {
            foreach (var member in group.Where(member => !member.Completion.IsCompleted))
            {
                await WriteOneAsync(member);
            }
        }
        catch (Exception exception)
        {
            group[0].Fail(exception);
        }
    }

    private async Task WriteTogetherAsync(List<PendingWrite> group, CancellationToken cancellationToken)
    {
        var connection = _writer ??= await openWriter(cancellationToken);
        try
        {
            await WriteTogetherAsync(connection, group, cancellationToken);
            appended(PagesWritten(connection));
        }
        catch
        {
            _writer = null;
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task WriteTogetherAsync(DbConnection connection, List<PendingWrite> group, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var failures = new Dictionary<PendingWrite, Exception>();
        if (group is [var alone])
        {
            // Its failure undoes the whole transaction: no savepoint (whose journal copies every page the write changes).
            await alone.RunAsync(connection, transaction);
        }
        else
        {
            foreach (var member in group)
            {
                await transaction.SaveAsync(Savepoint, CancellationToken.None);
                try
                {
                    await member.RunAsync(connection, transaction);
                }
                catch (Exception exception)
                {
                    await transaction.RollbackAsync(Savepoint, CancellationToken.None);
                    failures[member] = exception;
                }
                await transaction.ReleaseAsync(Savepoint, CancellationToken.None);
            }
        }
        await transaction.CommitAsync(cancellationToken);
        foreach (var member in group)
        {
            if (failures.TryGetValue(member, out var exception))
            {
                member.Fail(exception);
            }
            else
            {
                member.Succeed();
            }
        }
    }

    private async Task WriteOneAsync(PendingWrite member)
    {
        try
        {
            await WriteTogetherAsync([member], CancellationToken.None);
        }
        catch (Exception exception)
        {
            member.Fail(exception);
        }
    }

    /// <summary>The pages the connection has written since the last call: at each commit, the WAL frames it appended.</summary>
    private static int PagesWritten(DbConnection connection)
    {
        raw.sqlite3_db_status(((SqliteConnection)connection).Handle, raw.SQLITE_DBSTATUS_CACHE_WRITE, out var pages, out _, 1);
        return pages;
    }

    /// <summary>A write waiting to run; taken by exactly one writer, or cancelled before any took it.</summary>
    private abstract class PendingWrite
    {
        private const int Waiting = 0, Taken = 1, Cancelled = 2;
        private int _state;

        public abstract Task Completion { get; }

        public bool TryTake() => Interlocked.CompareExchange(ref _state, Taken, Waiting) == Waiting;

        public bool TryCancel() => Interlocked.CompareExchange(ref _state, Cancelled, Waiting) == Waiting;

        /// <summary>Runs the work; its result is kept until the transaction commits.</summary>
        public abstract Task RunAsync(DbConnection connection, DbTransaction transaction);

        public abstract void Succeed();

        public abstract void Fail(Exception exception);
    }

    private sealed class PendingWrite<T>(Func<DbConnection, DbTransaction, Task<T>> work) : PendingWrite
    {
        private readonly TaskCompletionSource<T> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;

        public Task<T> Outcome => _outcome.Task;

        public override Task Completion => _outcome.Task;

        public override async Task RunAsync(DbConnection connection, DbTransaction transaction) => _result = await work(connection, transaction);

        public override void Succeed() => _outcome.TrySetResult(_result!);

        public override void Fail(Exception exception) => _outcome.TrySetException(exception);
    }
}
