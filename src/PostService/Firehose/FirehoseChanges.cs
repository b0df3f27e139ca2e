using System.Text.Json.Nodes;

namespace PostService.Firehose;

/// <summary>
/// What one firehose message changes, decoded and ready to store. Every sequenced message becomes one, changes or not,
/// so that the cursor moves past it. <paramref name="Records"/>: the records created of kinds a repository backfill keeps.
/// </summary>
public sealed record FirehoseEvent(long Seq, DateTimeOffset Time, IReadOnlyList<FirehoseChange> Changes, IReadOnlyList<RecordCreated>? Records = null);

public abstract record FirehoseChange;

/// <summary>An <c>app.bsky.feed.post</c> created. Times are ISO-8601 UTC text; lists are JSON arrays.</summary>
public sealed record PostCreated(
    string Uri, string Did, string Cid, string? CreatedAt, string? Text, string? Langs, string? ReplyParentUri, string? ReplyRootUri,
    string? EmbedType, string? QuotedUri, string? Hashtags) : FirehoseChange;

public sealed record PostDeleted(string Uri) : FirehoseChange;

/// <summary>A like or repost of <paramref name="SubjectUri"/>; replies and quotes are counted from <see cref="PostCreated"/>.</summary>
public sealed record EngagementCreated(EngagementKind Kind, string SubjectUri) : FirehoseChange;

/// <summary>
/// A record of a kind a repository backfill keeps (posts, likes, reposts, follows, blocks), decoded; it changes nothing
/// in the cache, and joins <c>repo_records</c> only when its author has a backfill job.
/// </summary>
public sealed record RecordCreated(string Did, string Collection, string Rkey, string Cid, JsonObject Record);

public sealed record HandleChanged(string Did, string? Handle) : FirehoseChange;

public enum EngagementKind
{
    Like,
    Repost,
    Reply,
    Quote,
}
