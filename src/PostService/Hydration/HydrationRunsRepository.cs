using Dapper;
using PostService.Storage;

namespace PostService.Hydration;

/// <summary>All SQL on <c>hydration_runs</c>. Trigger and status are stored as their snake_case text.</summary>
public sealed class HydrationRunsRepository(IDbConnectionFactory connections)
{
    // The texts come last, read apart from the rest (split on trigger) and parsed into the record's enums.
    private const string Columns = """
        run_id, force, refresh, ts_text(started_at) AS started_at, ts_text(finished_at) AS finished_at,
        attempted, hydrated, not_found, errors, skipped_cached, api_calls, rate_limited, retries, trigger, status
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

    public Task<long> CreateAsync(RunTrigger trigger, bool force, bool refresh, string startedAt, HydrationRunStatus status, CancellationToken cancellationToken) =>
        connections.WriteAsync((connection, transaction) => connection.ExecuteScalarAsync<long>(
            InsertRun, new { Trigger = EnumText<RunTrigger>.Of(trigger), Force = force, Refresh = refresh, StartedAt = startedAt, Status = EnumText<HydrationRunStatus>.Of(status) },
            transaction), cancellationToken);

    public Task SaveAsync(HydrationRunRecord run, CancellationToken cancellationToken)
    {
        var parameters = new
        {
            run.RunId, Status = EnumText<HydrationRunStatus>.Of(run.Status), run.StartedAt, run.FinishedAt, run.Attempted, run.Hydrated, run.NotFound,
            run.Errors, run.SkippedCached, run.ApiCalls, run.RateLimited, run.Retries,
        };
        return connections.WriteAsync((connection, transaction) => connection.ExecuteAsync(UpdateRun, parameters, transaction), cancellationToken);
    }

    public Task<int> MarkInterruptedAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        connections.WriteAsync((connection, transaction) => connection.ExecuteAsync(MarkInterrupted, new { Now = DbTime.ToText(now) }, transaction),
            cancellationToken);

    public async Task<HydrationRunRecord?> GetAsync(long runId, CancellationToken cancellationToken) =>
        (await QueryAsync(SelectRun, new { RunId = runId }, cancellationToken)).SingleOrDefault();

    public Task<IReadOnlyList<HydrationRunRecord>> ListRecentAsync(int limit, CancellationToken cancellationToken) =>
        QueryAsync(SelectRecent, new { Limit = limit }, cancellationToken);

    private async Task<IReadOnlyList<HydrationRunRecord>> QueryAsync(string sql, object parameters, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<HydrationRunRecord, RunTexts, HydrationRunRecord>(
            new CommandDefinition(sql, parameters, cancellationToken: cancellationToken),
            (run, texts) => run with { Trigger = EnumText<RunTrigger>.Parse(texts.Trigger), Status = EnumText<HydrationRunStatus>.Parse(texts.Status) },
            splitOn: "trigger");
        return rows.AsList();
    }

    private sealed class RunTexts
    {
        public required string Trigger { get; init; }
        public required string Status { get; init; }
    }
}
