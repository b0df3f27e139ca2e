using System.Collections.Concurrent;
using System.Data.Common;
using PostService.FeedRequests;
using PostService.Posts;
using PostService.Storage;

namespace PostService.Ingestion;

/// <summary>
/// The rows of one request, ready to write: its feed requests, their served rows, the distinct URIs served, and the
/// body to log (null when replaying, or when the log is off).
/// </summary>
public sealed record RetrievalRows(
    IReadOnlyList<FeedRequestRow> Requests, IReadOnlyList<FeedRequestPostRow> ServedPosts, IReadOnlyList<NewPost> Posts, IngestEvent? Event = null);

/// <summary>What writing one request changed.</summary>
public sealed record RetrievalWrite(int Replaced, IReadOnlyList<string> NewUris);

/// <summary>
/// Writes requests. On SQLite (one writer at a time) with group commit: requests that arrive while a transaction is being written wait, and the next
/// writer stores all of them, each in turn as if alone, in one transaction. A commit's cost (the fsync, the WAL frames of
/// pages several requests touch, the checkpoint) was as large as storing a request's rows, so concurrent clients share
/// it instead of queueing for one each. Every request still returns only after the transaction holding it committed;
/// when a shared transaction fails, its requests are written again one by one, so a failure stays with its request.
/// </summary>
public sealed class RetrievalWriter(IDbConnectionFactory connections)
{
    // Bounds one transaction; a larger backlog waits for the next one.
    private const int MaxServedPostsPerTransaction = 50_000;

    private readonly ConcurrentQueue<Pending> _waiting = new();
    private readonly SemaphoreSlim _writerTurn = new(1, 1);

    public async Task<RetrievalWrite> WriteAsync(RetrievalRows rows, CancellationToken cancellationToken)
    {
        if (connections.Dialect.IsPostgres)
        {
            // PostgreSQL takes concurrent writers and flushes concurrent commits together itself; a shared transaction
            // would only take row and id locks out of the sorted order that keeps replicas from deadlocking.
            return await connections.WriteAsync((connection, transaction) => StoreAsync(connection, transaction, rows), cancellationToken);
        }
        var pending = new Pending(rows);
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
            return await pending.Outcome.Task;
        }
        try
        {
            // An earlier writer may have taken this request along with its own; a long queue may need several transactions.
            while (!pending.Outcome.Task.IsCompleted)
            {
                await WriteWaitingAsync(cancellationToken);
            }
        }
        finally
        {
            _writerTurn.Release();
        }
        return await pending.Outcome.Task;
    }

    /// <summary>Everything waiting, up to the bound, in arrival order, in one transaction.</summary>
    private async Task WriteWaitingAsync(CancellationToken cancellationToken)
    {
        var group = new List<Pending>();
        var servedPosts = 0;
        while (servedPosts < MaxServedPostsPerTransaction && _waiting.TryDequeue(out var next))
        {
            if (next.TryTake())
            {
                group.Add(next);
                servedPosts += next.Rows.ServedPosts.Count;
            }
        }
        try
        {
            var writes = await connections.WriteAsync(async (connection, transaction) =>
            {
                var results = new List<RetrievalWrite>(group.Count);
                foreach (var member in group)
                {
                    results.Add(await StoreAsync(connection, transaction, member.Rows));
                }
                return results;
            }, group.Count == 1 ? cancellationToken : CancellationToken.None);
            for (var i = 0; i < group.Count; i++)
            {
                group[i].Outcome.SetResult(writes[i]);
            }
        }
        catch (Exception) when (group.Count > 1)
        {
            foreach (var member in group)
            {
                await WriteAloneAsync(member);
            }
        }
        catch (Exception exception)
        {
            group[0].Outcome.SetException(exception);
        }
    }

    private async Task WriteAloneAsync(Pending member)
    {
        try
        {
            member.Outcome.SetResult(await connections.WriteAsync(
                (connection, transaction) => StoreAsync(connection, transaction, member.Rows), CancellationToken.None));
        }
        catch (Exception exception)
        {
            member.Outcome.SetException(exception);
        }
    }

    private async Task<RetrievalWrite> StoreAsync(DbConnection connection, DbTransaction transaction, RetrievalRows rows)
    {
        var replaced = await FeedRequestsRepository.ReplaceAsync(connection, transaction, connections.Dialect, rows.Requests, rows.ServedPosts);
        if (rows.Event is { } logged)
        {
            await IngestEventLog.AppendAsync(connection, transaction, logged);
        }
        return new RetrievalWrite(replaced, await PostsRepository.AddUnseenAsync(connection, transaction, connections.Dialect, rows.Posts));
    }

    /// <summary>A request waiting to be written; taken by exactly one writer, or cancelled before any took it.</summary>
    private sealed class Pending(RetrievalRows rows)
    {
        private const int Waiting = 0, Taken = 1, Cancelled = 2;
        private int _state;

        public RetrievalRows Rows { get; } = rows;

        public TaskCompletionSource<RetrievalWrite> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool TryTake() => Interlocked.CompareExchange(ref _state, Taken, Waiting) == Waiting;

        public bool TryCancel() => Interlocked.CompareExchange(ref _state, Cancelled, Waiting) == Waiting;
    }
}
