using Dapper;
using Microsoft.Extensions.Options;
using PostService.Storage;
using PostService.Upstream.AppView;

namespace PostService.Upstream.Budget;

/// <summary>A budget decision: the calls granted (their ids in the log), or none and how long to wait before asking again.</summary>
public sealed record SharedBudgetGrant(IReadOnlyList<long> CallIds, TimeSpan Wait)
{
    public bool Granted => CallIds.Count > 0;
}

/// <summary>
/// The AppView call log all replicas on one PostgreSQL database share, so that together they stay within one budget.
/// Each grant happens in a transaction holding an advisory lock, so two replicas never both take the last call of a
/// window. A call counts from its grant until a window after it finished; a call whose replica died before saying it
/// finished counts until a window after it could have timed out at the latest. Times are the database server's clock.
/// </summary>
public sealed class AppViewCallLog(IDbConnectionFactory connections, IOptions<AppViewOptions> appView)
{
    private const string LockBudget = "SELECT pg_advisory_xact_lock(7316002)";

    private const string PruneCalls = """
        DELETE FROM appview_calls WHERE coalesce(finished_at, granted_at + @LongestCall) + @Spacing <= clock_timestamp()
        """;

    private const string SelectState = """
        SELECT (SELECT count(*) FROM appview_calls) AS used,
               (SELECT paused_until FROM appview_pause WHERE id = 1) AS PausedUntil,
               clock_timestamp() AS now
        """;

    // The call whose leaving the window frees enough room for the permits asked for.
    private const string SelectFreeingCall = """
        SELECT coalesce(finished_at, granted_at + @LongestCall) + @Spacing AS FreesAt, finished_at IS NULL AS InFlight
        FROM appview_calls ORDER BY 1 OFFSET @Skip LIMIT 1
        """;

    private const string InsertCalls = """
        INSERT INTO appview_calls (replica, granted_at) SELECT @Replica, clock_timestamp() FROM generate_series(1, @Permits) RETURNING id
        """;

    private const string FinishCalls = "UPDATE appview_calls SET finished_at = clock_timestamp() WHERE id = ANY(@Ids)";

    private const string PauseCalls = """
        INSERT INTO appview_pause (id, paused_until) VALUES (1, @Until)
        ON CONFLICT (id) DO UPDATE SET paused_until = greatest(appview_pause.paused_until, excluded.paused_until)
        """;

    // A call still running may finish any moment: look again soon rather than at its latest possible end.
    private static readonly TimeSpan InFlightRecheck = TimeSpan.FromMilliseconds(200);

    private readonly TimeSpan _longestCall = TimeSpan.FromSeconds(appView.Value.AttemptTimeoutSeconds + 5);

    public async Task<SharedBudgetGrant> TryAcquireAsync(string replica, int permits, int limit, TimeSpan spacing, CancellationToken cancellationToken) =>
        await connections.WriteAsync(async (connection, transaction) =>
        {
            await connection.ExecuteAsync(LockBudget, transaction: transaction);
            await connection.ExecuteAsync(PruneCalls, new { LongestCall = _longestCall, Spacing = spacing }, transaction);
            var state = await connection.QuerySingleAsync<BudgetState>(SelectState, transaction: transaction);
            if (state.PausedUntil > state.Now)
            {
                return new SharedBudgetGrant([], state.PausedUntil.Value - state.Now);
            }
            if (state.Used + permits > limit)
            {
                var freeing = await connection.QuerySingleAsync<FreeingCall>(SelectFreeingCall,
                    new { LongestCall = _longestCall, Spacing = spacing, Skip = state.Used + permits - limit - 1 }, transaction);
                var wait = freeing.FreesAt - state.Now;
                return new SharedBudgetGrant([], freeing.InFlight && wait > InFlightRecheck ? InFlightRecheck : wait);
            }
            var ids = await connection.QueryAsync<long>(InsertCalls, new { Replica = replica, Permits = permits }, transaction);
            return new SharedBudgetGrant(ids.AsList(), TimeSpan.Zero);
        }, cancellationToken);

    /// <summary>The calls are over: from now on they count for one more window.</summary>
    public Task FinishAsync(IReadOnlyList<long> callIds, CancellationToken cancellationToken) =>
        connections.WriteAsync((connection, transaction) => connection.ExecuteAsync(FinishCalls, new { Ids = callIds.ToArray() }, transaction), cancellationToken);

    /// <summary>The AppView answered 429 to one replica: none calls before <paramref name="until"/>.</summary>
    public Task PauseUntilAsync(DateTimeOffset until, CancellationToken cancellationToken) =>
        connections.WriteAsync((connection, transaction) => connection.ExecuteAsync(PauseCalls, new { Until = until.UtcDateTime }, transaction), cancellationToken);

    private sealed record BudgetState(long Used, DateTime? PausedUntil, DateTime Now);

    private sealed record FreeingCall(DateTime FreesAt, bool InFlight);
}
