using System.Data.Common;
using Dapper;

namespace PostService.Data;

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

public sealed record PostState(string PostUri, string HydrationStatus, long Attempts, string? NextAttemptAt, string? LastHydratedAt);

/// <summary>What the AppView said about a post, ready to store.</summary>
public sealed record PostMetadata(
    string PostUri, string Cid, string AuthorDid, string AuthorHandle, string IndexedAt, string? CreatedAt, string? Text,
    string? Langs, string? ReplyParentUri, string? ReplyRootUri, string? EmbedType,
    long? LikeCount, long? RepostCount, long? ReplyCount, long? QuoteCount, string HydratedAt);

public sealed record PostFailure(string PostUri, string Status, string Error, long Attempts, string? NextAttemptAt, string HydratedAt);

/// <summary>All SQL on <c>posts</c> that hydration uses: finding due work and recording outcomes.</summary>
public sealed class HydrationRepository(IDbConnectionFactory connections)
{
    // Python-written error rows have no retry time: they are due at once, like ours whose time has come.
    private const string DueFilter = """
        (hydration_status <> 'error' OR @Force = 1
             OR (attempts < @MaxAttempts AND (next_attempt_at IS NULL OR next_attempt_at <= @Now)))
          AND (hydration_status <> 'ok' OR @RefreshBefore IS NULL OR last_hydrated_at IS NULL OR last_hydrated_at < @RefreshBefore)
          AND (hydration_status = 'pending' OR last_hydrated_at IS NULL OR last_hydrated_at < @RunStartedAt)
        """;

    // One status at a time, so that the (hydration_status, post_uri) index serves the page in order.
    private const string SelectWorkPage =
        "SELECT post_uri FROM posts WHERE hydration_status = @Status AND post_uri > @AfterUri AND " + DueFilter + " ORDER BY post_uri LIMIT @Limit";

    private const string CountDue = "SELECT count(*) FROM posts WHERE hydration_status IN @Statuses AND " + DueFilter;

    private const string SelectStates = """
        SELECT post_uri, hydration_status, attempts, next_attempt_at, last_hydrated_at FROM posts WHERE post_uri IN @Uris
        """;

    private const string MarkOk = """
        UPDATE posts SET cid = @Cid, author_did = @AuthorDid, author_handle = @AuthorHandle, indexed_at = @IndexedAt,
            created_at = @CreatedAt, text = @Text, langs = @Langs, reply_parent_uri = @ReplyParentUri,
            reply_root_uri = @ReplyRootUri, embed_type = @EmbedType, like_count = @LikeCount, repost_count = @RepostCount,
            reply_count = @ReplyCount, quote_count = @QuoteCount, last_hydrated_at = @HydratedAt,
            hydration_status = 'ok', hydration_error = NULL, attempts = 0, next_attempt_at = NULL, metadata_source = 'appview'
        WHERE post_uri = @PostUri
        """;

    private const string MarkFailed = """
        UPDATE posts SET hydration_status = @Status, hydration_error = @Error, attempts = @Attempts,
            next_attempt_at = @NextAttemptAt, last_hydrated_at = @HydratedAt
        WHERE post_uri = @PostUri
        """;

    private const string SelectEarliestRetry = """
        SELECT min(next_attempt_at) FROM posts
        WHERE hydration_status = 'error' AND attempts < @MaxAttempts AND next_attempt_at IS NOT NULL
        """;

    /// <summary>The next page of URIs with <paramref name="status"/> the selection covers, in URI order after <paramref name="afterUri"/>.</summary>
    public async Task<IReadOnlyList<string>> SelectWorkAsync(
        WorkSelection selection, string status, string afterUri, int limit, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var parameters = DueParameters(selection, now);
        parameters.AddDynamicParams(new { Status = status, AfterUri = afterUri, Limit = limit });
        await using var connection = await connections.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<string>(new CommandDefinition(SelectWorkPage, parameters, cancellationToken: cancellationToken));
        return rows.ToList();
    }

    /// <summary>How many posts the selection covers now, over all its statuses.</summary>
    public async Task<long> CountDueAsync(WorkSelection selection, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var parameters = DueParameters(selection, now);
        parameters.AddDynamicParams(new { selection.Statuses });
        await using var connection = await connections.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(CountDue, parameters, cancellationToken: cancellationToken));
    }

    private static DynamicParameters DueParameters(WorkSelection selection, DateTimeOffset now) => new(new
    {
        selection.MaxAttempts,
        Now = DbTime.ToText(now),
        Force = selection.Force ? 1 : 0,
        selection.RefreshBefore,
        selection.RunStartedAt,
    });

    public async Task<IReadOnlyDictionary<string, PostState>> GetStatesAsync(IReadOnlyCollection<string> uris, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<PostState>(new CommandDefinition(SelectStates, new { Uris = uris }, cancellationToken: cancellationToken));
        return rows.ToDictionary(row => row.PostUri, StringComparer.Ordinal);
    }

    /// <summary>Records one call's outcomes in one transaction.</summary>
    public Task RecordAsync(IReadOnlyCollection<PostMetadata> hydrated, IReadOnlyCollection<PostFailure> failed, CancellationToken cancellationToken) =>
        connections.WriteAsync(async (connection, transaction) =>
        {
            if (hydrated.Count > 0)
            {
                await connection.ExecuteAsync(MarkOk, hydrated, transaction);
            }
            if (failed.Count > 0)
            {
                await connection.ExecuteAsync(MarkFailed, failed, transaction);
            }
            return 0;
        }, cancellationToken);

    /// <summary>When the earliest failed post becomes due again, if any will.</summary>
    public async Task<DateTimeOffset?> EarliestRetryAsync(int maxAttempts, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var text = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(SelectEarliestRetry, new { MaxAttempts = maxAttempts }, cancellationToken: cancellationToken));
        return DbTime.TryParse(text, out var value) ? value : null;
    }
}
