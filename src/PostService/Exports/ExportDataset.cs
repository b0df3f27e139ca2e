using PostService.Engagements;
using PostService.Identity;

namespace PostService.Exports;

/// <summary>
/// A table analysts can download: its columns and the rows it covers. The filters (<see cref="ExportFilter"/>) are
/// parameters of <see cref="From"/>. Adding a column is one line in <see cref="ExportDatasets"/>.
/// </summary>
public sealed record ExportDataset(string Name, string Description, IReadOnlyList<ExportColumn> Columns, string From)
{
    public string SelectSql => $"SELECT {string.Join(", ", Columns.Select(column => $"{column.Sql} AS {column.Name}"))}\n{From}";

    public string CountSql => $"SELECT count(*)\n{From}";

    /// <summary>False where the rows are not feed requests' (engagements): an <c>algo</c> filter is refused.</summary>
    public bool TakesAlgo { get; init; } = true;
}

/// <summary>The datasets, by the name in <c>GET /exports/{dataset}.parquet</c> and <c>postservice export {dataset}</c>.</summary>
public static class ExportDatasets
{
    // Rows in storage order: no sort, so the first rows leave before the query has read the last.
    private const string ExposuresFrom = """
        FROM feed_request_posts frp
        JOIN feed_requests r ON r.request_id = frp.request_id
        LEFT JOIN posts p ON p.post_uri = frp.post_uri
        WHERE (@RequesterDid IS NULL OR r.requester_did = @RequesterDid)
          AND (@Algo IS NULL OR r.algo = @Algo)
          AND (@Since IS NULL OR r.timestamp >= to_ts(@Since))
          AND (@Until IS NULL OR r.timestamp < to_ts(@Until))
        """;

    // With a filter: the posts served in the feed requests it selects.
    private const string PostsFrom = """
        FROM posts p
        WHERE (@RequesterDid IS NULL AND @Algo IS NULL AND @Since IS NULL AND @Until IS NULL)
           OR EXISTS (
               SELECT 1 FROM feed_request_posts frp JOIN feed_requests r ON r.request_id = frp.request_id
               WHERE frp.post_id = p.post_id
                 AND (@RequesterDid IS NULL OR r.requester_did = @RequesterDid)
                 AND (@Algo IS NULL OR r.algo = @Algo)
                 AND (@Since IS NULL OR r.timestamp >= to_ts(@Since))
                 AND (@Until IS NULL OR r.timestamp < to_ts(@Until)))
        """;

    // The post's columns both datasets have.
    private static readonly ExportColumn[] Author =
    [
        new("author_did", ExportColumnType.Text, "p.author_did", "The author's DID"),
        new("author_handle", ExportColumnType.Text, "p.author_handle", "The author's handle when last hydrated"),
    ];

    private static readonly ExportColumn[] Content =
    [
        new("text", ExportColumnType.Text, "p.text", "The post's text"),
        new("langs", ExportColumnType.TextList, "p.langs", "The post's language tags"),
    ];

    private static readonly ExportColumn Status = new("hydration_status", ExportColumnType.Text, "p.hydration_status", "pending, ok, not_found, error or invalid");

    // Why a post is gone: what the author's repository says (Identity) and the deletion the firehose saw.
    private static readonly ExportColumn[] Removal =
    [
        new("not_found_reason", ExportColumnType.Text, "p.not_found_reason", $"Why a not_found post is missing: {string.Join(", ", NotFoundReason.All)}"),
        new("deleted_at", ExportColumnType.Timestamp, "ts_text(p.deleted_at)", "When the post was tombstoned (no longer returned by the AppView, or deleted in the firehose); empty while live"),
    ];

    private static readonly ExportColumn[] Counts =
    [
        new("like_count", ExportColumnType.Int64, "p.like_count", "Likes when last hydrated"),
        new("repost_count", ExportColumnType.Int64, "p.repost_count", "Reposts when last hydrated"),
        new("reply_count", ExportColumnType.Int64, "p.reply_count", "Replies when last hydrated"),
        new("quote_count", ExportColumnType.Int64, "p.quote_count", "Quotes when last hydrated"),
    ];

    /// <summary>One row per post served in a feed request, with what is known of the post now.</summary>
    public static readonly ExportDataset Exposures = new("exposures", "One row per post served in a feed request", [
        new("request_id", ExportColumnType.Int64, "r.request_id", "The feed request's id"),
        new("requester_did", ExportColumnType.Text, "r.requester_did", "Who asked for the feed"),
        new("algo", ExportColumnType.Text, "r.algo", "The feed generator's algorithm"),
        new("served_at", ExportColumnType.Timestamp, "ts_text(r.timestamp)", "When the feed was served (the request's timestamp)"),
        new("position", ExportColumnType.Int64, "frp.post_index", "The post's position in the feed, from 0"),
        new("post_uri", ExportColumnType.Text, "frp.post_uri", "The post's at-URI"),
        .. Author,
        new("post_created_at", ExportColumnType.Timestamp, "ts_text(p.created_at)", "The post record's createdAt"),
        .. Content,
        Status,
        .. Removal,
        .. Counts,
    ], ExposuresFrom);

    /// <summary>One row per post URI ever served: the canonical post rows.</summary>
    public static readonly ExportDataset Posts = new("posts", "One row per post URI ever served", [
        new("post_uri", ExportColumnType.Text, "p.post_uri", "The post's at-URI"),
        new("cid", ExportColumnType.Text, "p.cid", "The record's CID"),
        .. Author,
        new("created_at", ExportColumnType.Timestamp, "ts_text(p.created_at)", "The post record's createdAt"),
        new("indexed_at", ExportColumnType.Timestamp, "ts_text(p.indexed_at)", "When the AppView indexed the post"),
        .. Content,
        new("reply_parent_uri", ExportColumnType.Text, "p.reply_parent_uri", "The post it replies to"),
        new("reply_root_uri", ExportColumnType.Text, "p.reply_root_uri", "The thread's first post"),
        new("embed_type", ExportColumnType.Text, "p.embed_type", "What the post embeds (images, external, record, ...)"),
        .. Counts,
        Status,
        new("hydration_error", ExportColumnType.Text, "p.hydration_error", "Why the post is not_found, error or invalid"),
        .. Removal,
        new("last_hydrated_at", ExportColumnType.Timestamp, "ts_text(p.last_hydrated_at)", "The last hydration attempt"),
        new("metadata_source", ExportColumnType.Text, "p.metadata_source", "appview, or legacy (from an older file)"),
    ], PostsFrom);

    /// <summary>The rows of <c>GET /engagements</c>, served or not: each engagement with the latest serving of its post to the engager before it.</summary>
    public static readonly ExportDataset Engagements = new("engagements", "One row per like, repost, reply or quote by a subscriber (from backfilled repositories), with the latest serving of the post to them before it", [
        new("requester_did", ExportColumnType.Text, "e.did", "The subscriber who engaged"),
        new("engagement_uri", ExportColumnType.Text, "e.uri", "The like, repost or post record's at-URI"),
        new("engagement_type", ExportColumnType.Text, "e.record_type", "like, repost, reply or quote"),
        new("post_uri", ExportColumnType.Text, "e.subject_uri", "The liked, reposted or quoted post, or the reply's parent"),
        new("served_uri", ExportColumnType.Text, "frp.post_uri", "The URI the feed served it by: post_uri, or a handle-based URI that resolved to it"),
        new("engaged_at", ExportColumnType.Timestamp, "ts_text(e.created_at)", "The engagement record's createdAt"),
        new("request_id", ExportColumnType.Int64, "frp.request_id", "The feed request that last served the post to the subscriber before"),
        new("position", ExportColumnType.Int64, "frp.post_index", "The post's position in that feed, from 0"),
        new("served_at", ExportColumnType.Timestamp, "ts_text(fr.timestamp)", "When that feed was served"),
        new("seconds_after_served", ExportColumnType.SecondsBetween, "ts_text(fr.timestamp) || ' ' || ts_text(e.created_at)", "Seconds from the serving to the engagement"),
        new("served", ExportColumnType.Boolean, "e.serving_id IS NOT NULL", "Whether the post was served to the subscriber before the engagement"),
    ], EngagementsRepository.EngagementsWithServings) { TakesAlgo = false };

    public static readonly IReadOnlyList<ExportDataset> All = [Exposures, Posts, Engagements];

    public static ExportDataset? Find(string name) => All.FirstOrDefault(dataset => dataset.Name == name);
}
