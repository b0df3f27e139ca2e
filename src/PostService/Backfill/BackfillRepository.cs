using System.Data.Common;
using Dapper;
using Microsoft.Extensions.Options;
using PostService.Identity;
using PostService.Posts;
using PostService.Storage;

namespace PostService.Backfill;

/// <summary>
/// All SQL of the repository backfill: the job table replicas share (claims are leases, as hydration's are), and the
/// records of a finished repository, written in one transaction with its job.
/// </summary>
public sealed class BackfillRepository(IDbConnectionFactory connections, IOptions<PrivacyOptions> privacy)
{
    // A finished or running job is left as it is unless a refresh is asked for; a failed one is enqueued again.
    private const string Enqueue = """
        INSERT INTO repo_backfill_jobs AS j (did, status, since, until, collections, enqueued_at)
        VALUES (@Did, 'enqueued', to_ts(@Since), to_ts(@Until), @Collections, to_ts(@Now))
        ON CONFLICT (did) DO UPDATE SET status = 'enqueued', since = excluded.since, until = excluded.until, collections = excluded.collections,
            error = NULL, enqueued_at = excluded.enqueued_at, started_at = NULL, finished_at = NULL, claimed_by = NULL, claimed_until = NULL
        WHERE j.status IN ('enqueued', 'failed') OR @Refresh = 1
        """;

    private const string SelectJobs = """
        SELECT did, status, ts_text(since) AS since, ts_text(until) AS until, collections, rev, records, undated, bytes, error,
               ts_text(enqueued_at) AS enqueued_at, ts_text(started_at) AS started_at, ts_text(finished_at) AS finished_at
        FROM repo_backfill_jobs
        """;

    // An enqueued job, or one whose process died (its lease ran out).
    private const string ClaimTemplate = """
        UPDATE repo_backfill_jobs SET status = 'in_progress', claimed_by = @ClaimedBy, claimed_until = to_ts(@ClaimedUntil),
            started_at = to_ts(@Now), error = NULL
        WHERE did = (
            SELECT did FROM repo_backfill_jobs
            WHERE (status = 'enqueued' OR (status = 'in_progress' AND claimed_until <= to_ts(@Now))) AND (@AnyDid = 1 OR {0})
            ORDER BY did LIMIT 1 {1})
        RETURNING did
        """;

    private const string Renew = "UPDATE repo_backfill_jobs SET claimed_until = to_ts(@ClaimedUntil) WHERE did = @Did AND claimed_by = @ClaimedBy";

    private const string MarkFailed = """
        UPDATE repo_backfill_jobs SET status = 'failed', error = @Error, finished_at = to_ts(@Now), claimed_by = NULL, claimed_until = NULL
        WHERE did = @Did AND claimed_by = @ClaimedBy
        """;

    private const string MarkComplete = """
        UPDATE repo_backfill_jobs SET status = 'complete', rev = @Rev, records = @Records, undated = @Undated, bytes = @Bytes, error = NULL,
            finished_at = to_ts(@Now), claimed_by = NULL, claimed_until = NULL
        WHERE did = @Did AND claimed_by = @ClaimedBy
        """;

    private const string DeleteRecords = "DELETE FROM repo_records WHERE did = @Did";

    // A record already kept (the firehose brought it before the repository did) stays as it is: records are immutable.
    private const string InsertRecord = """
        INSERT INTO repo_records (uri, did, collection, rkey, cid, record_type, created_at, subject_uri, subject_did, record_json, backfilled_at)
        VALUES (@Uri, @Did, @Collection, @Rkey, @Cid, @RecordType, to_ts(@CreatedAt), @SubjectUri, @SubjectDid, to_json_doc(@RecordJson), to_ts(@BackfilledAt))
        ON CONFLICT (uri) DO NOTHING
        """;

    // The DID's served posts not yet hydrated: a key range of the primary index.
    private const string SelectUnsettledPosts = """
        SELECT post_uri FROM posts WHERE post_uri >= @From AND post_uri < @To AND hydration_status <> 'ok'
        """;

    // The DID's served posts that were seen (hydrated, from any source) and are not tombstoned yet.
    private const string SelectSeenPosts = """
        SELECT post_uri FROM posts WHERE post_uri >= @From AND post_uri < @To AND author_did IS NOT NULL AND deleted_at IS NULL
        """;

    // As the firehose tombstones a deleted post: the row and its metadata stay, its status too (a later fetch settles it).
    private const string MarkDeletedFromRepo = """
        UPDATE posts SET deleted_at = to_ts(@DeletedAt), not_found_reason = @Reason,
            text = CASE WHEN @RedactDeletedText = 1 THEN NULL ELSE text END
        WHERE post_uri = @PostUri AND deleted_at IS NULL
        """;

    private const string MarkFromRepo = """
        UPDATE posts SET cid = @Cid, author_did = @AuthorDid, created_at = to_ts(@CreatedAt), text = @Text, langs = to_json_doc(@Langs),
            reply_parent_uri = @ReplyParentUri, reply_root_uri = @ReplyRootUri, embed_type = @EmbedType, metadata_source = 'repo'
        WHERE post_uri = @PostUri AND hydration_status <> 'ok'
        """;

    private readonly string _selectJobsOf = SelectJobs + " WHERE " + connections.Dialect.IsAnyOf("did", "@Dids");

    private readonly string _claim = string.Format(ClaimTemplate, connections.Dialect.IsAnyOf("did", "@Dids"), connections.Dialect.SkipLockedRows);

    public Task EnqueueAsync(BackfillRequest request, DateTimeOffset now, CancellationToken cancellationToken) =>
        connections.WriteAsync((connection, transaction) => connection.ExecuteAsync(Enqueue, request.Dids.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(did => new
            {
                Did = did,
                Since = request.Since is { } since ? DbTime.ToText(since) : null,
                Until = request.Until is { } until ? DbTime.ToText(until) : null,
                Collections = request.Collections is { } types ? string.Join(',', types) : null,
                Now = DbTime.ToText(now),
                Refresh = request.Refresh ? 1 : 0,
            }), transaction), cancellationToken);

    public Task<BackfillJob?> GetAsync(string did, CancellationToken cancellationToken) =>
        connections.QuerySingleOrDefaultAsync<BackfillJob>(SelectJobs + " WHERE did = @Did", new { Did = did }, cancellationToken);

    public Task<IReadOnlyList<BackfillJob>> ListAsync(IReadOnlyCollection<string> dids, CancellationToken cancellationToken) =>
        connections.QueryListAsync<BackfillJob>(_selectJobsOf + " ORDER BY did",
            new { Dids = connections.Dialect.List(dids) }, cancellationToken);

    /// <summary>Claims the next job (one of <paramref name="onlyDids"/> when given) for <paramref name="claimedBy"/>; null when none is due.</summary>
    public Task<string?> ClaimAsync(IReadOnlyCollection<string>? onlyDids, string claimedBy, DateTimeOffset now, DateTimeOffset claimedUntil, CancellationToken cancellationToken) =>
        connections.WriteAsync((connection, transaction) => connection.QuerySingleOrDefaultAsync<string?>(_claim, new
        {
            AnyDid = onlyDids is null ? 1 : 0,
            Dids = connections.Dialect.List(onlyDids ?? []),
            ClaimedBy = claimedBy,
            ClaimedUntil = DbTime.ToText(claimedUntil),
            Now = DbTime.ToText(now),
        }, transaction), cancellationToken);

    public Task RenewAsync(string did, string claimedBy, DateTimeOffset claimedUntil, CancellationToken cancellationToken) =>
        connections.WriteAsync((connection, transaction) => connection.ExecuteAsync(Renew,
            new { Did = did, ClaimedBy = claimedBy, ClaimedUntil = DbTime.ToText(claimedUntil) }, transaction), cancellationToken);

    public Task FailAsync(string did, string claimedBy, string error, DateTimeOffset now, CancellationToken cancellationToken) =>
        connections.WriteAsync((connection, transaction) => connection.ExecuteAsync(MarkFailed,
            new { Did = did, ClaimedBy = claimedBy, Error = error, Now = DbTime.ToText(now) }, transaction), cancellationToken);

    /// <summary>
    /// Replaces the DID's records with <paramref name="records"/>, gives its served posts that are not yet <c>ok</c> the
    /// metadata of their records, tombstones its served posts that were seen and are no longer in the repository
    /// (<paramref name="postsInRepo"/>: deleted by their author), and completes the job: all in one transaction, so a
    /// repository is never half written. Nothing is written unless <paramref name="claimedBy"/> still holds the job;
    /// returns 1 when it did, else 0.
    /// </summary>
    public Task<int> CompleteAsync(string did, string claimedBy, string rev, long bytes, IReadOnlyList<RepoRecordRow> records,
        IReadOnlyDictionary<string, RepoPostMetadata> posts, IReadOnlySet<string> postsInRepo, DateTimeOffset now, CancellationToken cancellationToken) =>
        connections.WriteAsync(async (connection, transaction) =>
        {
            var backfilledAt = DbTime.ToText(now);
            // First, so that a replica whose claim was taken over (it stalled past its lease) writes nothing.
            var claimed = await connection.ExecuteAsync(MarkComplete, new
            {
                Did = did, ClaimedBy = claimedBy, Rev = rev, Records = records.Count, Undated = records.Count(record => record.CreatedAt is null),
                Bytes = bytes, Now = backfilledAt,
            }, transaction);
            if (claimed == 0)
            {
                return 0;
            }
            await connection.ExecuteAsync(DeleteRecords, new { Did = did }, transaction);
            await InsertRecordsAsync(connection, transaction, records, now, cancellationToken);
            var prefix = $"at://{did}/{RepoRecordClassifier.PostCollection}/";
            var range = new { From = prefix, To = prefix[..^1] + "0" };
            var unsettled = await connection.QueryAsync<string>(SelectUnsettledPosts, range, transaction);
            await connection.ExecuteAsync(MarkFromRepo, unsettled.Where(posts.ContainsKey).Select(uri => posts[uri]), transaction);
            var seen = await connection.QueryAsync<string>(SelectSeenPosts, range, transaction);
            await connection.ExecuteAsync(MarkDeletedFromRepo, seen.Where(uri => !postsInRepo.Contains(uri)).Select(uri => new
            {
                PostUri = uri, DeletedAt = backfilledAt, Reason = NotFoundReason.Deleted, RedactDeletedText = privacy.Value.RedactDeletedText ? 1 : 0,
            }), transaction);
            return claimed;
        }, cancellationToken);

    /// <summary>The backfill jobs of those of <paramref name="dids"/> that have one, by DID, in the caller's transaction.</summary>
    public async Task<IReadOnlyDictionary<string, BackfillJob>> JobsAsync(DbConnection connection, DbTransaction transaction, IReadOnlyCollection<string> dids,
        CancellationToken cancellationToken) =>
        dids.Count == 0
            ? new Dictionary<string, BackfillJob>()
            : (await connection.QueryAsync<BackfillJob>(new CommandDefinition(_selectJobsOf, new { Dids = connections.Dialect.List(dids) }, transaction,
                cancellationToken: cancellationToken))).ToDictionary(job => job.Did, StringComparer.Ordinal);

    /// <summary>Keeps <paramref name="records"/> in the caller's transaction (from a repository, or live from the firehose).</summary>
    public static Task InsertRecordsAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<RepoRecordRow> records, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var backfilledAt = DbTime.ToText(now);
        return connection.ExecuteAsync(new CommandDefinition(InsertRecord, records.Select(record => new
        {
            record.Uri, record.Did, record.Collection, record.Rkey, record.Cid, record.RecordType, record.CreatedAt,
            record.SubjectUri, record.SubjectDid, record.RecordJson, BackfilledAt = backfilledAt,
        }), transaction, cancellationToken: cancellationToken));
    }
}
