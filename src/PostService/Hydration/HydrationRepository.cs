using Dapper;
using Microsoft.Extensions.Options;
using PostService.Posts;
using PostService.Storage;

namespace PostService.Hydration;

/// <summary>Which rows a hydration run works on, besides <c>pending</c> ones.</summary>
/// <param name="Force">Re-fetch <c>not_found</c> and <c>error</c> posts whatever their attempts.</param>
/// <param name="Refresh">Re-fetch <c>ok</c> posts too (last hydrated before <paramref name="RefreshBefore"/> when given).</param>
/// <param name="RunStartedAt">Posts hydrated since the run started are not fetched again by it.</param>
public sealed record WorkSelection(bool Force, bool Refresh, string? RefreshBefore, int MaxAttempts, string RunStartedAt)
{
    /// <summary>The statuses a sweep visits, in order.</summary>
    public IReadOnlyList<string> Statuses =>
        [HydrationStatus.Pending, HydrationStatus.Error, .. Force ? [HydrationStatus.NotFound] : Array.Empty<string>(), .. Refresh ? [HydrationStatus.Ok] : Array.Empty<string>()];
}

/// <summary>A post's hydration status and failed attempts so far.</summary>
public sealed record PostState
{
    public required string PostUri { get; init; }
    public required string HydrationStatus { get; init; }
    public long Attempts { get; init; }
}

/// <summary>Whether a post is due in a run (<see cref="HydrationRepository.SelectDueAsync"/>), whoever holds it.</summary>
public sealed record PostDue
{
    public required string PostUri { get; init; }
    public required string HydrationStatus { get; init; }
    public long Due { get; init; }

    public bool IsDue => Due != 0;
}

/// <summary>What the AppView said about a post, ready to store.</summary>
public sealed record PostMetadata(
    string PostUri, string Cid, string AuthorDid, string AuthorHandle, string? IndexedAt, string? CreatedAt, string? Text,
    string? Langs, string? ReplyParentUri, string? ReplyRootUri, string? EmbedType,
    long? LikeCount, long? RepostCount, long? ReplyCount, long? QuoteCount, string HydratedAt);

public sealed record PostFailure(string PostUri, string Status, string Error, long Attempts, string? NextAttemptAt, string HydratedAt);

/// <summary>
/// All SQL on <c>posts</c> that hydration uses: finding due work, claiming it, recording outcomes. A claim
/// (<c>claimed_by</c>, <c>claimed_until</c>) is a lease: while it lasts no other process fetches the post; a process
/// that dies leaves it to run out, and then the post is due again.
/// </summary>
public sealed class HydrationRepository(IDbConnectionFactory connections, IOptions<PrivacyOptions> privacy)
{
    /// <summary>
    /// The due rule, written once: pending posts always; error ones while attempts are left and their retry time has
    /// come, or when forced; not_found ones when forced; ok ones when their scheduled refresh has come, or on a refresh
    /// run if last hydrated before its cutoff; none hydrated since the run started, unless its scheduled refresh has
    /// come since (a busy worker's run can last longer than the first refresh age). Python-written error rows have no
    /// retry time: they are due at once.
    /// </summary>
    private const string DueRule = """
        (hydration_status IN ('pending', 'error') OR (hydration_status = 'not_found' AND @Force = 1)
             OR (hydration_status = 'ok' AND (@Refresh = 1 OR next_refresh_at <= to_ts(@Now))))
          AND (hydration_status <> 'error' OR @Force = 1
             OR (attempts < @MaxAttempts AND (next_attempt_at IS NULL OR next_attempt_at <= to_ts(@Now))))
          AND (hydration_status <> 'ok' OR next_refresh_at <= to_ts(@Now)
             OR @RefreshBefore IS NULL OR last_hydrated_at IS NULL OR last_hydrated_at < to_ts(@RefreshBefore))
          AND (hydration_status = 'pending' OR last_hydrated_at IS NULL OR last_hydrated_at < to_ts(@RunStartedAt)
             OR (hydration_status = 'ok' AND next_refresh_at <= to_ts(@Now)))
        """;

    // Due and held by no process.
    private const string DueFilter = DueRule + " AND (claimed_until IS NULL OR claimed_until <= to_ts(@Now))";

    // One status at a time, in the order posts were stored, so that the index on hydration_status serves the page in
    // order ({0}: SqlDialect.StorageOrder).
    private const string SelectWorkPageTemplate =
        "SELECT {0} AS Position, post_uri AS PostUri FROM posts WHERE hydration_status = @Status AND {0} > @After AND " + DueFilter +
        " ORDER BY {0} LIMIT @Limit";

    // Scheduled refreshes, most overdue first (the partial index on next_refresh_at serves it).
    private const string SelectRefreshPage =
        "SELECT post_uri FROM posts WHERE next_refresh_at <= to_ts(@Now) AND hydration_status = 'ok' AND " + DueFilter +
        " ORDER BY next_refresh_at, post_uri LIMIT @Limit";

    // Only ok posts have a next_refresh_at (it is booked on ok rows and cleared by every outcome), so both counts read
    // the partial index alone: about 20 ms with a million posts scheduled, 2.5 ms for 80,000 due (SQLite).
    private const string CountScheduledRefreshes = "SELECT count(*) FROM posts WHERE next_refresh_at IS NOT NULL";

    private const string CountDueRefreshes = "SELECT count(*) FROM posts WHERE next_refresh_at <= to_ts(@Now)";

    private const string CountDueTemplate = "SELECT count(*) FROM posts WHERE {0} AND " + DueFilter;

    private const string SelectStatesTemplate = "SELECT post_uri, hydration_status, attempts FROM posts WHERE {0}";

    private const string SelectDueTemplate = "SELECT post_uri, hydration_status, CASE WHEN " + DueRule + " THEN 1 ELSE 0 END AS due FROM posts WHERE {0}";

    // Only rows still due and not claimed by another process; on PostgreSQL rows another claim is locking are skipped.
    private const string ClaimTemplate =
        "UPDATE posts SET claimed_by = @ClaimedBy, claimed_until = to_ts(@ClaimedUntil) WHERE post_uri IN (" +
        "SELECT post_uri FROM posts WHERE {0} AND " + DueFilter + " ORDER BY post_uri {1}) RETURNING post_uri";

    private const string RenewClaims = "UPDATE posts SET claimed_until = to_ts(@ClaimedUntil) WHERE claimed_by = @ClaimedBy";

    private const string ReleaseClaims = "UPDATE posts SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = @ClaimedBy";

    private const string MarkOk = """
        UPDATE posts SET cid = @Cid, author_did = @AuthorDid, author_handle = @AuthorHandle, indexed_at = to_ts(@IndexedAt),
            created_at = to_ts(@CreatedAt), text = @Text, langs = to_json_doc(@Langs), reply_parent_uri = @ReplyParentUri,
            reply_root_uri = @ReplyRootUri, embed_type = @EmbedType, like_count = @LikeCount, repost_count = @RepostCount,
            reply_count = @ReplyCount, quote_count = @QuoteCount, last_hydrated_at = to_ts(@HydratedAt),
            hydration_status = 'ok', hydration_error = NULL, attempts = 0, next_attempt_at = NULL, metadata_source = 'appview', not_found_reason = NULL,
            deleted_at = CASE WHEN hydration_status = 'not_found' THEN NULL ELSE deleted_at END,
            claimed_by = NULL, claimed_until = NULL, next_refresh_at = NULL
        WHERE post_uri = @PostUri
        """;

    // A post the AppView returned before (ok, or failing since with its metadata kept) and now leaves out is tombstoned:
    // its metadata stays, deleted_at says since when. The metadata columns are never written here. Back from not_found
    // (hidden, then shown again), MarkOk lifts the tombstone; one the firehose set on an ok post stays.
    private const string MarkFailed = """
        UPDATE posts SET hydration_status = @Status, hydration_error = @Error, attempts = @Attempts,
            next_attempt_at = to_ts(@NextAttemptAt), last_hydrated_at = to_ts(@HydratedAt), not_found_reason = NULL, claimed_by = NULL, claimed_until = NULL,
            next_refresh_at = NULL,
            deleted_at = CASE WHEN @Status = 'not_found' AND deleted_at IS NULL AND cid IS NOT NULL AND hydration_status IN ('ok', 'error')
                THEN to_ts(@HydratedAt) ELSE deleted_at END,
            text = CASE WHEN @Status = 'not_found' AND @RedactDeletedText = 1
                AND (deleted_at IS NOT NULL OR (cid IS NOT NULL AND hydration_status IN ('ok', 'error'))) THEN NULL ELSE text END
        WHERE post_uri = @PostUri
        """;

    private const string SelectEarliestDue = """
        SELECT ts_text(min(due_at)) FROM (
            SELECT min(next_attempt_at) AS due_at FROM posts
            WHERE hydration_status = 'error' AND attempts < @MaxAttempts AND next_attempt_at IS NOT NULL
            UNION ALL
            SELECT min(next_refresh_at) FROM posts WHERE next_refresh_at IS NOT NULL
        ) due
        """;

    private readonly string _selectWorkPage = string.Format(SelectWorkPageTemplate, connections.Dialect.StorageOrder);
    private readonly string _countDue = string.Format(CountDueTemplate, connections.Dialect.IsAnyOf("hydration_status", "@Statuses"));
    private readonly string _selectStates = string.Format(SelectStatesTemplate, connections.Dialect.IsAnyOf("post_uri", "@Uris"));
    private readonly string _selectDue = string.Format(SelectDueTemplate, connections.Dialect.IsAnyOf("post_uri", "@Uris"));
    private readonly string _claim = string.Format(ClaimTemplate, connections.Dialect.IsAnyOf("post_uri", "@Uris"), connections.Dialect.SkipLockedRows);

    /// <summary>
    /// The next page of posts with <paramref name="status"/> the selection covers, in the order they were stored, after
    /// <paramref name="after"/> (a <see cref="SweptPost.Position"/>; 0 from the start).
    /// </summary>
    public async Task<IReadOnlyList<SweptPost>> SelectWorkAsync(
        WorkSelection selection, string status, long after, int limit, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var parameters = DueParameters(selection, now);
        parameters.AddDynamicParams(new { Status = status, After = after, Limit = limit });
        return await connections.QueryListAsync<SweptPost>(_selectWorkPage, parameters, cancellationToken);
    }

    /// <summary>Up to <paramref name="limit"/> posts whose scheduled refresh has come and that no process holds, most overdue first.</summary>
    public async Task<IReadOnlyList<string>> SelectRefreshesAsync(WorkSelection selection, int limit, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var parameters = DueParameters(selection, now);
        parameters.AddDynamicParams(new { Limit = limit });
        return await connections.QueryListAsync<string>(SelectRefreshPage, parameters, cancellationToken);
    }

    /// <summary>Posts with a refresh ahead, and of those the ones whose refresh has come (the refresh backlog).</summary>
    public async Task<RefreshCounts> CountRefreshesAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var scheduled = await connections.QuerySingleOrDefaultAsync<long>(CountScheduledRefreshes, null, cancellationToken);
        var due = await connections.QuerySingleOrDefaultAsync<long>(CountDueRefreshes, new { Now = DbTime.ToText(now) }, cancellationToken);
        return new RefreshCounts(scheduled, due);
    }

    /// <summary>How many posts the selection covers now, over all its statuses.</summary>
    public async Task<long> CountDueAsync(WorkSelection selection, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var parameters = DueParameters(selection, now);
        parameters.AddDynamicParams(new { Statuses = connections.Dialect.List(selection.Statuses) });
        return await connections.QuerySingleOrDefaultAsync<long>(_countDue, parameters, cancellationToken);
    }

    private static DynamicParameters DueParameters(WorkSelection selection, DateTimeOffset now) => new(new
    {
        selection.MaxAttempts,
        Now = DbTime.ToText(now),
        Force = selection.Force ? 1 : 0,
        Refresh = selection.Refresh ? 1 : 0,
        selection.RefreshBefore,
        selection.RunStartedAt,
    });

    /// <summary>Which of <paramref name="uris"/> the selection covers now, by the same rule the sweep uses (claims aside).</summary>
    public async Task<IReadOnlyDictionary<string, PostDue>> SelectDueAsync(
        IReadOnlyCollection<string> uris, WorkSelection selection, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var parameters = DueParameters(selection, now);
        parameters.AddDynamicParams(new { Uris = connections.Dialect.List(uris) });
        var rows = await connections.QueryListAsync<PostDue>(_selectDue, parameters, cancellationToken);
        return rows.ToDictionary(row => row.PostUri, StringComparer.Ordinal);
    }

    public async Task<IReadOnlyDictionary<string, PostState>> GetStatesAsync(IReadOnlyCollection<string> uris, CancellationToken cancellationToken)
    {
        var rows = await connections.QueryListAsync<PostState>(_selectStates, new { Uris = connections.Dialect.List(uris) }, cancellationToken);
        return rows.ToDictionary(row => row.PostUri, StringComparer.Ordinal);
    }

    /// <summary>
    /// Claims those of <paramref name="uris"/> that are still due and that no other process holds, for
    /// <paramref name="claimedBy"/> until <paramref name="claimedUntil"/>; returns the URIs it claimed.
    /// </summary>
    public Task<IReadOnlyList<string>> ClaimAsync(IReadOnlyCollection<string> uris, WorkSelection selection, string claimedBy,
        DateTimeOffset now, DateTimeOffset claimedUntil, CancellationToken cancellationToken)
    {
        var parameters = DueParameters(selection, now);
        parameters.AddDynamicParams(new { Uris = connections.Dialect.List(uris), ClaimedBy = claimedBy, ClaimedUntil = DbTime.ToText(claimedUntil) });
        return connections.WriteAsync(async (connection, transaction) =>
            (IReadOnlyList<string>)(await connection.QueryAsync<string>(_claim, parameters, transaction)).AsList(), cancellationToken);
    }

    /// <summary>Extends every claim <paramref name="claimedBy"/> holds, while its calls are still running.</summary>
    public Task<int> RenewClaimsAsync(string claimedBy, DateTimeOffset claimedUntil, CancellationToken cancellationToken) =>
        connections.WriteAsync((connection, transaction) => connection.ExecuteAsync(
            RenewClaims, new { ClaimedBy = claimedBy, ClaimedUntil = DbTime.ToText(claimedUntil) }, transaction), cancellationToken);

    /// <summary>Gives up every claim <paramref name="claimedBy"/> still holds, so that others need not wait for the leases to run out.</summary>
    public Task<int> ReleaseClaimsAsync(string claimedBy, CancellationToken cancellationToken) =>
        connections.WriteAsync((connection, transaction) => connection.ExecuteAsync(
            ReleaseClaims, new { ClaimedBy = claimedBy }, transaction), cancellationToken);

    /// <summary>
    /// Records one call's outcomes in one transaction, releasing their claims. Rows are written in URI order, the order
    /// ingestion locks them in, so that concurrent writers on PostgreSQL cannot deadlock.
    /// </summary>
    public Task RecordAsync(IReadOnlyCollection<PostMetadata> hydrated, IReadOnlyCollection<PostFailure> failed, CancellationToken cancellationToken)
    {
        var writes = hydrated.Select(post => (post.PostUri, Sql: MarkOk, Row: (object)post))
            .Concat(failed.Select(post => (post.PostUri, Sql: MarkFailed, Row: (object)FailedRow(post))))
            .OrderBy(write => write.PostUri, StringComparer.Ordinal)
            .ToList();
        return connections.WriteAsync(async (connection, transaction) =>
        {
            foreach (var write in writes)
            {
                await connection.ExecuteAsync(write.Sql, write.Row, transaction);
            }
            return 0;
        }, cancellationToken);
    }

    private DynamicParameters FailedRow(PostFailure failure)
    {
        var row = new DynamicParameters(failure);
        row.Add("RedactDeletedText", privacy.Value.RedactDeletedText ? 1 : 0);
        return row;
    }

    /// <summary>When the earliest failed post's retry or ok post's scheduled refresh comes, if any will.</summary>
    public async Task<DateTimeOffset?> EarliestDueAsync(int maxAttempts, CancellationToken cancellationToken)
    {
        var text = await connections.QuerySingleOrDefaultAsync<string?>(SelectEarliestDue, new { MaxAttempts = maxAttempts }, cancellationToken);
        return DbTime.TryParse(text, out var value) ? value : null;
    }
}

/// <summary>A post a sweep found, and its place in the order posts were stored, where the next page starts after it.</summary>
public sealed record SweptPost(long Position, string PostUri);
