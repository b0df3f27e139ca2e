namespace PostService.Exports;

/// <summary>
/// A table analysts can download: its columns and the rows it covers. The filters (<see cref="ExportFilter"/>) are
/// parameters of <see cref="From"/>. Adding a column is one line in <see cref="ExportDatasets"/>.
/// </summary>
public sealed record ExportDataset(string Name, string Description, IReadOnlyList<ExportColumn> Columns, string From)
{
    public string SelectSql => $"SELECT {string.Join(", ", Columns.Select(column => $"{column.Sql} AS {column.Name}"))}\n{From}";

    public string CountSql => $"SELECT count(*)\n{From}";
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
               WHERE frp.post_uri = p.post_uri
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

    // Tombstoned posts stay in the exports with their metadata, flagged by this column.
    private static readonly ExportColumn DeletedAt = new("deleted_at", ExportColumnType.Timestamp, "ts_text(p.deleted_at)",
        "When the post was tombstoned (no longer returned by the AppView, or deleted in the firehose); empty while live");

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
        DeletedAt,
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
        DeletedAt,
        new("hydration_error", ExportColumnType.Text, "p.hydration_error", "Why the post is not_found, error or invalid"),
        new("last_hydrated_at", ExportColumnType.Timestamp, "ts_text(p.last_hydrated_at)", "The last hydration attempt"),
        new("metadata_source", ExportColumnType.Text, "p.metadata_source", "appview, or legacy (from an older file)"),
    ], PostsFrom);

    public static readonly IReadOnlyList<ExportDataset> All = [Exposures, Posts];

    public static ExportDataset? Find(string name) => All.FirstOrDefault(dataset => dataset.Name == name);
}
