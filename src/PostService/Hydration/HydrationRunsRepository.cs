using Dapper;
using PostService.Storage;

namespace PostService.Hydration;

/// <summary>All SQL on <c>hydration_runs</c>.</summary>
public sealed class HydrationRunsRepository(IDbConnectionFactory connections)
{
    private const string Columns = """
        run_id, trigger, force, refresh, ts_text(started_at) AS started_at, ts_text(finished_at) AS finished_at, status,
        attempted, hydrated, not_found, errors, skipped_cached, api_calls, rate_limited, retries
        """;

    private const string InsertRun = """
        INSERT INTO hydration_runs (trigger, force, refresh, started_at, status)
        VALUES (@Trigger, @Force, @Refresh, to_ts(@StartedAt), @Status)
        RETURNING run_id
        """;

    private const string UpdateRun = """
        UPDATE hydration_runs SET status = @Status, started_at = to_ts(@StartedAt), finished_at = to_ts(@FinishedAt),
            attempted = @Attempted, hydrated = @Hydrated, not_found = @NotFound, errors = @Errors,
            skipped_cached = @SkippedCached, api_calls = @ApiCalls, rate_limited = @RateLimited, retries = @Retries
        WHERE run_id = @RunId
        """;

    // Runs left open by a process that died never finish; say so instead of showing them as running forever.
    private const string MarkInterrupted = """
        UPDATE hydration_runs SET status = 'interrupted', finished_at = to_ts(@Now) WHERE status IN ('queued', 'running')
        """;

    private const string SelectRun = "SELECT " + Columns + " FROM hydration_runs WHERE run_id = @RunId";

    private const string SelectRecent = "SELECT " + Columns + " FROM hydration_runs ORDER BY run_id DESC LIMIT @Limit";

    public Task<long> CreateAsync(string trigger, bool force, bool refresh, string startedAt, string status, CancellationToken cancellationToken) =>
        connections.WriteAsync((connection, transaction) => connection.ExecuteScalarAsync<long>(
            InsertRun, new { Trigger = trigger, Force = force, Refresh = refresh, StartedAt = startedAt, Status = status }, transaction),
            cancellationToken);

    public Task SaveAsync(HydrationRunRecord run, CancellationToken cancellationToken) =>
        connections.WriteAsync((connection, transaction) => connection.ExecuteAsync(UpdateRun, run, transaction), cancellationToken);

    public Task<int> MarkInterruptedAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        connections.WriteAsync((connection, transaction) => connection.ExecuteAsync(MarkInterrupted, new { Now = DbTime.ToText(now) }, transaction),
            cancellationToken);

    public Task<HydrationRunRecord?> GetAsync(long runId, CancellationToken cancellationToken) =>
        connections.QuerySingleOrDefaultAsync<HydrationRunRecord>(SelectRun, new { RunId = runId }, cancellationToken);

    public Task<IReadOnlyList<HydrationRunRecord>> ListRecentAsync(int limit, CancellationToken cancellationToken) =>
        connections.QueryListAsync<HydrationRunRecord>(SelectRecent, new { Limit = limit }, cancellationToken);
}
