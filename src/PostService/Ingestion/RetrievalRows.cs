namespace PostService.Ingestion;

/// <summary>A feed request as stored in <c>feed_requests</c>.</summary>
public sealed record FeedRequestRow(long RequestId, string RequesterDid, string? Algo, string Timestamp, string PostsJson, string ReceivedAt);

/// <summary>A served post as stored in <c>feed_request_posts</c>.</summary>
public sealed record FeedRequestPostRow(long RequestId, int? PostIndex, string? PostUri, string PostJson);

/// <summary>A URI a retrieval served; <paramref name="InvalidReason"/> is set when it is not a valid post at-URI.</summary>
public sealed record NewPost(string PostUri, string? Cid, string? InvalidReason);

/// <summary>
/// The rows of one request, ready to write: its feed requests, their served rows, the distinct URIs served, and the
/// body to log with them (null when replaying, or when the log is off).
/// </summary>
public sealed record RetrievalRows(
    IReadOnlyList<FeedRequestRow> Requests, IReadOnlyList<FeedRequestPostRow> ServedPosts, IReadOnlyList<NewPost> Posts, IngestEvent? Event = null);

/// <summary>What writing one request changed: how many stored requests it replaced, and the URIs that became new pending posts.</summary>
public sealed record RetrievalWrite(int Replaced, IReadOnlyList<string> NewUris);
