using System.Data.Common;
using Dapper;
using Microsoft.Extensions.Options;
using PostService.Backfill;
using PostService.Identity;
using PostService.Posts;
using PostService.Storage;

namespace PostService.Firehose;

/// <summary>The firehose's checkpoint on a URL, as this process took it over.</summary>
/// <param name="Acquired">False when another process holds the lease; <paramref name="HeldBy"/> says which.</param>
public sealed record FirehoseLease(bool Acquired, long? Cursor, string? HeldBy);

/// <summary>The lease on a firehose URL passed to another process: this one must stop consuming it.</summary>
public sealed class FirehoseLeaseLostException(string url) : Exception($"the lease on {url} passed to another process");

/// <summary>
/// All SQL of the firehose consumer. A batch of events and the cursor after them are written in one transaction, which
/// first renews this process's lease on the URL: a process that lost the lease writes nothing. Writes are idempotent
/// (posts are inserted once; counts only ever see an event once, because events up to the saved cursor are never applied again).
/// </summary>
public sealed class FirehoseStore(IDbConnectionFactory connections, IFirehoseRowWriter rows, BackfillRepository backfill, IOptions<PrivacyOptions> privacy)
{
    // Takes the lease when it is free, ours, or ran out; the row lock orders replicas that try at once.
    private const string TakeLease = """
        INSERT INTO firehose_cursor (source_url, cursor, updated_at, leased_by, leased_until)
        VALUES (@Url, NULL, to_ts(@Now), @Holder, to_ts(@Until))
        ON CONFLICT (source_url) DO UPDATE SET leased_by = excluded.leased_by, leased_until = excluded.leased_until
        WHERE firehose_cursor.leased_by IS NULL OR firehose_cursor.leased_by = excluded.leased_by OR firehose_cursor.leased_until <= to_ts(@Now)
        """;

    private const string SelectCheckpoint = "SELECT cursor, leased_by FROM firehose_cursor WHERE source_url = @Url";

    private const string SaveCursor = """
        UPDATE firehose_cursor SET cursor = coalesce(@Cursor, cursor), updated_at = to_ts(@Now), leased_until = to_ts(@Until)
        WHERE source_url = @Url AND leased_by = @Holder
        """;

    private const string ReleaseLease = "UPDATE firehose_cursor SET leased_by = NULL, leased_until = NULL WHERE source_url = @Url AND leased_by = @Holder";

    private const string DeleteCachedPost = "DELETE FROM firehose_posts WHERE uri = @Uri";

    // The served post keeps its metadata: analysts still see what was served, and that its author deleted it, with the
    // reason the identity feature gives a post the AppView no longer returns (its text too, unless
    // PostService:Privacy:RedactDeletedText).
    private const string MarkServedPostDeleted = """
        UPDATE posts SET deleted_at = to_ts(@DeletedAt), not_found_reason = @Reason,
            text = CASE WHEN @RedactDeletedText = 1 THEN NULL ELSE text END
        WHERE post_uri = @Uri AND hydration_status = 'ok' AND deleted_at IS NULL
        """;

    private const string SaveHandle = """
        INSERT INTO firehose_handles (did, handle, updated_at) VALUES (@Did, @Handle, to_ts(@UpdatedAt))
        ON CONFLICT (did) DO UPDATE SET handle = excluded.handle, updated_at = excluded.updated_at
        """;

    /// <summary>How a count row adds to the one already there; both stores' count upserts end with it.</summary>
    internal const string AddToCounts = """
        ON CONFLICT (uri) DO UPDATE SET like_count = firehose_counts.like_count + excluded.like_count,
            repost_count = firehose_counts.repost_count + excluded.repost_count, reply_count = firehose_counts.reply_count + excluded.reply_count,
            quote_count = firehose_counts.quote_count + excluded.quote_count
        """;

    private const string PruneCounts = """
        DELETE FROM firehose_counts WHERE uri IN (SELECT uri FROM firehose_posts WHERE seen_at < to_ts(@Before))
            AND NOT EXISTS (SELECT 1 FROM posts WHERE post_uri = firehose_counts.uri)
        """;

    private const string PrunePosts = "DELETE FROM firehose_posts WHERE seen_at < to_ts(@Before)";

    private const string CountPosts = "SELECT count(*) FROM firehose_posts";

    /// <summary>Takes the lease on <paramref name="url"/> for <paramref name="holder"/> if no one else holds it; says where the checkpoint is.</summary>
    public Task<FirehoseLease> TakeLeaseAsync(string url, string holder, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken) =>
        connections.WriteAsync(async (connection, transaction) =>
        {
            await connection.ExecuteAsync(new CommandDefinition(TakeLease,
                new { Url = url, Holder = holder, Now = DbTime.ToText(now), Until = DbTime.ToText(until) }, transaction, cancellationToken: cancellationToken));
            var row = await connection.QuerySingleAsync<(long? Cursor, string? LeasedBy)>(
                new CommandDefinition(SelectCheckpoint, new { Url = url }, transaction, cancellationToken: cancellationToken));
            return new FirehoseLease(row.LeasedBy == holder, row.Cursor, row.LeasedBy);
        }, cancellationToken);

    /// <summary>The saved cursor of <paramref name="url"/>, if any.</summary>
    public async Task<long?> CursorAsync(string url, CancellationToken cancellationToken)
    {
        var rows = await connections.QueryListAsync<(long? Cursor, string? LeasedBy)>(SelectCheckpoint, new { Url = url }, cancellationToken);
        return rows.Count == 0 ? null : rows[0].Cursor;
    }

    /// <summary>
    /// Applies <paramref name="events"/> in order and saves the cursor after the last one, renewing the lease, in one
    /// transaction. With no events it only renews the lease. Throws <see cref="FirehoseLeaseLostException"/> when the lease is gone.
    /// </summary>
    public Task ApplyAsync(string url, string holder, IReadOnlyList<FirehoseEvent> events, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken cancellationToken) =>
        connections.WriteAsync(async (connection, transaction) =>
        {
            // First, so that on PostgreSQL the row lock fences a replica taking over meanwhile.
            var renewed = await connection.ExecuteAsync(new CommandDefinition(SaveCursor,
                new { Url = url, Holder = holder, Cursor = events.Count > 0 ? events[^1].Seq : (long?)null, Now = DbTime.ToText(now), Until = DbTime.ToText(leaseUntil) },
                transaction, cancellationToken: cancellationToken));
            if (renewed == 0)
            {
                throw new FirehoseLeaseLostException(url);
            }
            await ApplyChangesAsync(connection, transaction, events, now, cancellationToken);
            return 0;
        }, cancellationToken);

    /// <summary>
    /// Inserts before deletes: a record key is never reused, so a post created and deleted in one batch ends deleted.
    /// Counts are summed per post first.
    /// </summary>
    private async Task ApplyChangesAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<FirehoseEvent> events, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var records = new List<RecordCreated>();
        var posts = new List<CachedPostRow>();
        var deletes = new List<object>();
        var handles = new Dictionary<string, object>(StringComparer.Ordinal);
        var sightings = new List<HandleSighting>();
        var counts = new Dictionary<string, CountRow>(StringComparer.Ordinal);
        foreach (var firehoseEvent in events)
        {
            var seenAt = DbTime.ToText(firehoseEvent.Time);
            records.AddRange(firehoseEvent.Records ?? []);
            foreach (var change in firehoseEvent.Changes)
            {
                switch (change)
                {
                    case PostCreated post:
                        posts.Add(new CachedPostRow(post, seenAt));
                        break;
                    case PostDeleted deleted:
                        deletes.Add(new { deleted.Uri, DeletedAt = seenAt, Reason = NotFoundReason.Deleted, RedactDeletedText = privacy.Value.RedactDeletedText ? 1 : 0 });
                        break;
                    case HandleChanged handle:
                        handles[handle.Did] = new { handle.Did, handle.Handle, UpdatedAt = seenAt };
                        if (handle.Handle is { } newHandle)
                        {
                            sightings.Add(new HandleSighting(handle.Did, newHandle, seenAt));
                        }
                        break;
                    case EngagementCreated engagement:
                        counts[engagement.SubjectUri] = (counts.GetValueOrDefault(engagement.SubjectUri) ?? new CountRow(engagement.SubjectUri)).Add(engagement.Kind);
                        break;
                }
            }
        }
        await rows.InsertPostsAsync(connection, transaction, posts, cancellationToken);
        await KeepRecordsOfBackfilledDidsAsync(connection, transaction, records, now, cancellationToken);
        await ExecuteEachAsync(connection, transaction, SaveHandle, handles.Values.ToList(), cancellationToken);
        // An author of served posts who changes handle: their history has it at the event, not at their next fetch.
        await AuthorHandlesRepository.RecordAsync(connection, transaction, sightings, cancellationToken);
        await rows.AddCountsAsync(connection, transaction, counts.Values.ToList(), cancellationToken);
        await ExecuteEachAsync(connection, transaction, DeleteCachedPost, deletes, cancellationToken);
        await ExecuteEachAsync(connection, transaction, MarkServedPostDeleted, deletes, cancellationToken);
    }

    /// <summary>
    /// A participant whose repository is backfilled keeps engaging: their new records join <c>repo_records</c> as they
    /// happen, sorted as the backfill sorts them and kept when the job would keep them (its record types and window).
    /// Records of other DIDs are not kept.
    /// </summary>
    private async Task KeepRecordsOfBackfilledDidsAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<RecordCreated> records,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        var jobs = await backfill.JobsAsync(connection, transaction, records.Select(record => record.Did).ToHashSet(StringComparer.Ordinal), cancellationToken);
        var kept = records.Where(record => jobs.ContainsKey(record.Did))
            .Select(record => RepoRecordClassifier.Classify(record.Did, record.Collection, record.Rkey, record.Cid, record.Record))
            .OfType<RepoRecordRow>()
            .Where(row => jobs[row.Did].Keeps(row))
            .ToList();
        if (kept.Count > 0)
        {
            await BackfillRepository.InsertRecordsAsync(connection, transaction, kept, now, cancellationToken);
        }
    }

    internal static async Task ExecuteEachAsync(DbConnection connection, DbTransaction transaction, string sql, IReadOnlyList<object> rows, CancellationToken cancellationToken)
    {
        if (rows.Count > 0)
        {
            // Dapper runs one prepared command for every row.
            await connection.ExecuteAsync(new CommandDefinition(sql, rows, transaction, cancellationToken: cancellationToken));
        }
    }

    /// <summary>Records handles learnt outside the stream (from DID documents); a later <c>#identity</c> event replaces them.</summary>
    public Task SaveHandlesAsync(IReadOnlyDictionary<string, string> handles, DateTimeOffset now, CancellationToken cancellationToken) =>
        connections.WriteAsync(async (connection, transaction) =>
        {
            var updatedAt = DbTime.ToText(now);
            await ExecuteEachAsync(connection, transaction, SaveHandle,
                handles.Select(handle => (object)new { Did = handle.Key, Handle = handle.Value, UpdatedAt = updatedAt }).ToList(), cancellationToken);
            return 0;
        }, cancellationToken);

    /// <summary>Gives the lease up, so that another process can take over at once rather than after it runs out.</summary>
    public Task ReleaseLeaseAsync(string url, string holder, CancellationToken cancellationToken) =>
        connections.WriteAsync((connection, transaction) => connection.ExecuteAsync(
            new CommandDefinition(ReleaseLease, new { Url = url, Holder = holder }, transaction, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>Deletes cached posts seen before <paramref name="before"/>, with their counts unless the post was served.</summary>
    public Task<int> PruneAsync(DateTimeOffset before, CancellationToken cancellationToken) =>
        connections.WriteAsync(async (connection, transaction) =>
        {
            var parameters = new { Before = DbTime.ToText(before) };
            await connection.ExecuteAsync(new CommandDefinition(PruneCounts, parameters, transaction, cancellationToken: cancellationToken));
            return await connection.ExecuteAsync(new CommandDefinition(PrunePosts, parameters, transaction, cancellationToken: cancellationToken));
        }, cancellationToken);

    public Task<long> CountCachedPostsAsync(CancellationToken cancellationToken) =>
        connections.QuerySingleOrDefaultAsync<long>(CountPosts, null, cancellationToken);
}
