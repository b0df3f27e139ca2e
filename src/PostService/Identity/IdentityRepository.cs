using Dapper;
using Microsoft.Extensions.Options;
using PostService.Posts;
using PostService.Storage;

namespace PostService.Identity;

/// <summary>The SQL of identity on <c>posts</c>: the DID form of handle URIs, not-found reasons, and posts still to explain.</summary>
public sealed class IdentityRepository(IDbConnectionFactory connections, IOptions<PrivacyOptions> privacy)
{
    // Only while the post is still not_found: a forced re-fetch that found it meanwhile wins.
    private const string MarkReason = """
        UPDATE posts SET not_found_reason = @Reason, hydration_error = @Detail, attempts = @Attempts, next_attempt_at = to_ts(@NextAttemptAt),
            author_did = coalesce(@AuthorDid, author_did), author_handle = coalesce(@AuthorHandle, author_handle)
        WHERE post_uri = @PostUri AND hydration_status = 'not_found'
        """;

    // A hidden post: what its record says, with the author from the URI and the handle from the DID document; the text
    // of a tombstone stays blank when PostService:Privacy:RedactDeletedText blanked it.
    private const string MarkHidden = """
        UPDATE posts SET not_found_reason = 'hidden', hydration_error = @Detail, attempts = 0, next_attempt_at = NULL,
            cid = @Cid, author_did = @AuthorDid, author_handle = @AuthorHandle, created_at = to_ts(@CreatedAt),
            text = CASE WHEN deleted_at IS NOT NULL AND @RedactDeletedText = 1 THEN NULL ELSE @Text END,
            langs = to_json_doc(@Langs), reply_parent_uri = @ReplyParentUri, reply_root_uri = @ReplyRootUri, embed_type = @EmbedType,
            metadata_source = 'pds'
        WHERE post_uri = @PostUri AND hydration_status = 'not_found'
        """;

    // Posts left without a reason (by a process that stopped first, or before reasons existed) a while ago, and unknown
    // reasons whose time to ask again has come; both served by the partial index on not_found posts.
    private const string SelectDue = """
        SELECT post_uri AS PostUri, attempts AS Attempts FROM posts
        WHERE hydration_status = 'not_found'
          AND ((not_found_reason IS NULL AND (last_hydrated_at IS NULL OR last_hydrated_at < to_ts(@UnexplainedBefore)))
               OR (not_found_reason = 'unknown' AND next_attempt_at <= to_ts(@Now)))
        ORDER BY post_uri
        LIMIT @Limit
        """;

    private const string SetResolvedUri = "UPDATE posts SET resolved_uri = @ResolvedUri WHERE post_uri = @PostUri";

    /// <summary>Records the DID form of handle-based URIs (served URI to resolved URI).</summary>
    public Task RecordResolvedUrisAsync(IReadOnlyDictionary<string, string> resolved, CancellationToken cancellationToken) =>
        connections.WriteAsync((connection, transaction) => connection.ExecuteAsync(SetResolvedUri,
            resolved.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => new { PostUri = pair.Key, ResolvedUri = pair.Value }),
            transaction), cancellationToken);

    public Task RecordAsync(IReadOnlyCollection<RecordedExplanation> explanations, CancellationToken cancellationToken)
    {
        var rows = explanations.OrderBy(row => row.Explanation.PostUri, StringComparer.Ordinal).ToList();
        return connections.WriteAsync(async (connection, transaction) =>
        {
            foreach (var (explanation, attempts, nextAttemptAt) in rows)
            {
                if (explanation.Record is { } record)
                {
                    await connection.ExecuteAsync(MarkHidden, new
                    {
                        explanation.PostUri, explanation.Detail, explanation.AuthorDid, explanation.AuthorHandle, record.Cid, record.CreatedAt,
                        record.Text, record.Langs, record.ReplyParentUri, record.ReplyRootUri, record.EmbedType,
                        RedactDeletedText = privacy.Value.RedactDeletedText ? 1 : 0,
                    }, transaction);
                }
                else
                {
                    await connection.ExecuteAsync(MarkReason, new
                    {
                        explanation.PostUri, explanation.Reason, explanation.Detail, explanation.AuthorDid, explanation.AuthorHandle, Attempts = attempts,
                        NextAttemptAt = nextAttemptAt is { } next ? DbTime.ToText(next) : null,
                    }, transaction);
                }
            }
            return 0;
        }, cancellationToken);
    }

    /// <summary>Up to <paramref name="limit"/> <c>not_found</c> posts to explain (again) now.</summary>
    public Task<IReadOnlyList<UnexplainedPost>> SelectDueAsync(DateTimeOffset now, DateTimeOffset unexplainedBefore, int limit, CancellationToken cancellationToken) =>
        connections.QueryListAsync<UnexplainedPost>(SelectDue,
            new { Now = DbTime.ToText(now), UnexplainedBefore = DbTime.ToText(unexplainedBefore), Limit = limit }, cancellationToken);
}
