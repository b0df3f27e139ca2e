using System.Data.Common;
using System.IO.Compression;
using Dapper;
using Microsoft.Extensions.Options;
using PostService.Storage;

namespace PostService.Ingestion;

/// <summary>An accepted request body, gzip-compressed, with when it arrived and how many retrievals it held.</summary>
public sealed record IngestEvent(string ReceivedAt, byte[] Body, int Retrievals);

/// <summary>A logged request as replay reads it back.</summary>
public sealed class LoggedIngestEvent
{
    public long Id { get; init; }
    public required string ReceivedAt { get; init; }
    public required byte[] Body { get; init; }
}

/// <summary>
/// <c>ingest_events</c>: every accepted <c>POST /feed-retrievals</c> body, raw and compressed, written in the transaction
/// that stores its rows, so the log and the tables never disagree. <c>postservice replay</c> re-applies it; entries older
/// than <c>PostService:Ingestion:EventLogDays</c> are pruned (0 keeps no log).
/// </summary>
public sealed class IngestEventLog(IDbConnectionFactory connections, IOptions<IngestionOptions> options)
{
    private const string Insert = """
        INSERT INTO ingest_events (received_at, body, retrievals, processed_at) VALUES (to_ts(@ReceivedAt), @Body, @Retrievals, to_ts(@ReceivedAt))
        """;

    private const string SelectPage = """
        SELECT id, ts_text(received_at) AS received_at, body FROM ingest_events
        WHERE id > @AfterId AND (@Since IS NULL OR received_at >= to_ts(@Since)) AND (@Until IS NULL OR received_at < to_ts(@Until))
        ORDER BY id
        LIMIT @Limit
        """;

    private const string MarkReplayed = "UPDATE ingest_events SET processed_at = to_ts(@ProcessedAt), error = @Error WHERE id = @Id";

    private const string DeleteOlder = "DELETE FROM ingest_events WHERE received_at < to_ts(@Before)";

    /// <summary>Whether bodies are kept at all.</summary>
    public bool Enabled => options.Value.EventLogDays > 0;

    /// <summary>The event to log for a body accepted now, or null when the log is off.</summary>
    public IngestEvent? Capture(ReadOnlySpan<byte> body, int retrievals, DateTimeOffset receivedAt)
    {
        if (!Enabled)
        {
            return null;
        }
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(body);
        }
        return new IngestEvent(DbTime.ToText(receivedAt), compressed.ToArray(), retrievals);
    }

    /// <summary>Writes the event, if any, in the caller's transaction: the one that stores the rows the body produced.</summary>
    public static Task AppendAsync(DbConnection connection, DbTransaction transaction, IngestEvent? logged) =>
        logged is null ? Task.CompletedTask : connection.ExecuteAsync(Insert, logged, transaction);

    public static byte[] Decompress(byte[] body)
    {
        using var gzip = new GZipStream(new MemoryStream(body), CompressionMode.Decompress);
        using var plain = new MemoryStream();
        gzip.CopyTo(plain);
        return plain.ToArray();
    }

    /// <summary>The next events after <paramref name="afterId"/> in log order, received in [since, until).</summary>
    public Task<IReadOnlyList<LoggedIngestEvent>> ReadAsync(long afterId, string? since, string? until, int limit, CancellationToken cancellationToken) =>
        connections.QueryListAsync<LoggedIngestEvent>(SelectPage, new { AfterId = afterId, Since = since, Until = until, Limit = limit }, cancellationToken);

    /// <summary>Records when an event was applied again, and the error if it could not be.</summary>
    public Task MarkReplayedAsync(long id, DateTimeOffset processedAt, string? error, CancellationToken cancellationToken) =>
        connections.WriteAsync((connection, transaction) =>
            connection.ExecuteAsync(MarkReplayed, new { Id = id, ProcessedAt = DbTime.ToText(processedAt), Error = error }, transaction), cancellationToken);

    /// <summary>Deletes the events older than the retention; returns how many.</summary>
    public Task<int> PruneAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var before = DbTime.ToText(now.AddDays(-Math.Max(options.Value.EventLogDays, 0)));
        return connections.WriteAsync((connection, transaction) =>
            connection.ExecuteAsync(DeleteOlder, new { Before = before }, transaction), cancellationToken);
    }
}

/// <summary>Prunes the event log at start and every hour; a failed prune is logged and tried again at the next.</summary>
public sealed class IngestEventLogPruner(IngestEventLog log, TimeProvider time, ILogger<IngestEventLogPruner> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (true)
            {
                try
                {
                    if (await log.PruneAsync(time.GetUtcNow(), stoppingToken) is > 0 and var deleted)
                    {
                        logger.LogInformation("Pruned {Count} ingest events past their retention", deleted);
                    }
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    logger.LogWarning(exception, "Could not prune the ingest event log; trying again in {Interval}", Interval);
                }
                await Task.Delay(Interval, time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
