using PostService.Backfill;
using PostService.Storage;

namespace PostService.Engagements;

/// <summary>
/// One like, repost, reply or quote by a subscriber, joined to the latest time the target post was served to that subscriber
/// before the engagement (none when it never was). Properties: SQLite types NULL columns as BLOB.
/// </summary>
public sealed record Engagement
{
    /// <summary>The record types that are engagements (the join's <c>record_type IN (...)</c>).</summary>
    public static readonly IReadOnlyList<string> Types = [RepoRecordType.Like, RepoRecordType.Repost, RepoRecordType.Reply, RepoRecordType.Quote];

    public required string RequesterDid { get; init; }
    public required string EngagementUri { get; init; }

    /// <summary><c>like</c>, <c>repost</c>, <c>reply</c> or <c>quote</c>.</summary>
    public required string EngagementType { get; init; }

    /// <summary>The liked, reposted, quoted post, or the reply's parent.</summary>
    public required string PostUri { get; init; }

    /// <summary>The URI the feed served it by: <see cref="PostUri"/>, or its handle-based form (whose <c>resolved_uri</c> it is).</summary>
    public string? ServedUri { get; init; }

    /// <summary>The engagement record's <c>createdAt</c>.</summary>
    public string? EngagedAt { get; init; }
    public long? RequestId { get; init; }
    public long? Position { get; init; }
    public string? ServedAt { get; init; }

    public bool Served => RequestId is not null;

    public double? SecondsAfterServed =>
        DbTime.TryParse(ServedAt, out var served) && DbTime.TryParse(EngagedAt, out var engaged) ? (engaged - served).TotalSeconds : null;
}

/// <param name="Served">True: engagements with posts served to the subscriber before; false: with posts never served to them (before).</param>
public sealed record EngagementFilter(string? RequesterDid, string? Since, string? Until, bool Served, int Limit, string? AfterUri);

/// <summary>The engagement join over <c>repo_records</c> (backfilled) and what the feeds served (<c>feed_requests</c>, <c>feed_request_posts</c>).</summary>
public sealed class EngagementsRepository(IDbConnectionFactory connections)
{
    /// <summary>
    /// The engagements (<c>e</c>: did, uri, record_type, subject_uri, created_at, serving_id) each with its serving
    /// (<c>frp</c>, <c>fr</c>; null columns when there was none), selected by <c>@RequesterDid</c>, <c>@Since</c>, <c>@Until</c>
    /// on the engagement's createdAt. Shared with the <c>engagements</c> export.
    /// </summary>
    // The serving (a feed_request_posts row) is chosen per engagement by a correlated subquery (SQLite has no LATERAL): the
    // served-post index finds the post's servings, by its URI or by a handle-based URI that resolved to it, and the requester
    // and the time narrow them. Engagements without a createdAt cannot follow a serving.
    public const string EngagementsWithServings = """
        FROM (
            SELECT r.did, r.uri, r.record_type, r.subject_uri, r.created_at,
                   (SELECT frp.id FROM feed_request_posts frp JOIN feed_requests fr ON fr.request_id = frp.request_id
                    WHERE frp.post_id IN (SELECT p.post_id FROM posts p WHERE p.post_uri = r.subject_uri OR p.resolved_uri = r.subject_uri)
                      AND fr.requester_did = r.did AND fr.timestamp <= r.created_at
                    ORDER BY fr.timestamp DESC, fr.request_id DESC LIMIT 1) AS serving_id
            FROM repo_records r
            WHERE r.record_type IN ('like', 'repost', 'reply', 'quote') AND r.subject_uri IS NOT NULL
              AND (@RequesterDid IS NULL OR r.did = @RequesterDid)
              AND (@Since IS NULL OR r.created_at >= to_ts(@Since))
              AND (@Until IS NULL OR r.created_at < to_ts(@Until))
        ) e
        LEFT JOIN feed_request_posts frp ON frp.id = e.serving_id
        LEFT JOIN feed_requests fr ON fr.request_id = frp.request_id
        """;

    private const string SelectPage = $"""
        SELECT e.did AS requester_did, e.uri AS engagement_uri, e.record_type AS engagement_type, e.subject_uri AS post_uri,
               frp.post_uri AS served_uri, ts_text(e.created_at) AS engaged_at, frp.request_id, frp.post_index AS position,
               ts_text(fr.timestamp) AS served_at
        {EngagementsWithServings}
        WHERE (@AfterUri IS NULL OR e.uri > @AfterUri) AND (e.serving_id IS NOT NULL) = (@Served = 1)
        ORDER BY e.uri
        LIMIT @Limit
        """;

    public Task<IReadOnlyList<Engagement>> ListAsync(EngagementFilter filter, CancellationToken cancellationToken) =>
        connections.QueryListAsync<Engagement>(SelectPage, new
        {
            filter.RequesterDid, filter.Since, filter.Until, Served = filter.Served ? 1 : 0, filter.Limit, filter.AfterUri,
        }, cancellationToken);
}
