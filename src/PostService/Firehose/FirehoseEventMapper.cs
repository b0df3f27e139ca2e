using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PostService.Atproto;
using PostService.Storage;

namespace PostService.Firehose;

/// <summary>
/// Turns a decoded subscribeRepos message into what the consumer stores: posts created and deleted, likes and reposts,
/// handle changes, and the records a repository backfill keeps. A malformed commit throws <see cref="AtprotoFormatException"/>, so the whole frame is skipped.
/// </summary>
public static class FirehoseEventMapper
{
    private const string PostCollection = "app.bsky.feed.post";
    private const string LikeCollection = "app.bsky.feed.like";
    private const string RepostCollection = "app.bsky.feed.repost";
    private const string FollowCollection = "app.bsky.graph.follow";
    private const string BlockCollection = "app.bsky.graph.block";

    /// <summary>The event of a sequenced message; null for <c>#info</c>, errors and unknown types, which have no <c>seq</c>.</summary>
    public static FirehoseEvent? Map(FirehoseMessage message) => message switch
    {
        FirehoseCommit commit => CommitEvent(commit),
        FirehoseIdentity identity => new FirehoseEvent(identity.Seq, ParseTime(identity.Time), [new HandleChanged(identity.Did, identity.Handle)]),
        FirehoseAccount account => new FirehoseEvent(account.Seq, ParseTime(account.Time), []),
        FirehoseSync sync => new FirehoseEvent(sync.Seq, ParseTime(sync.Time), []),
        _ => null,
    };

    private static FirehoseEvent CommitEvent(FirehoseCommit commit)
    {
        var changes = new List<FirehoseChange>();
        var records = new List<RecordCreated>();
        // A tooBig commit carries no record blocks; its deletes still count.
        CarBlockMap? blocks = null;
        foreach (var op in commit.Ops)
        {
            var path = RepoPath.Parse(op.Path);
            var uri = $"at://{commit.Repo}/{op.Path}";
            if (op.Action == "delete")
            {
                if (path.Collection == PostCollection)
                {
                    changes.Add(new PostDeleted(uri));
                }
                continue;
            }
            if (op.Action != "create" || op.Cid is null || commit.TooBig
                || path.Collection is not (PostCollection or LikeCollection or RepostCollection or FollowCollection or BlockCollection))
            {
                continue;
            }
            blocks ??= CarReader.ReadAll(commit.Blocks);
            if (!blocks.TryGetBlock(op.Cid, out var block))
            {
                continue;
            }
            if (DagCborReader.ReadJson(block) is not JsonObject record)
            {
                throw new AtprotoFormatException($"record {uri} is not a map");
            }
            records.Add(new RecordCreated(commit.Repo, path.Collection, path.RecordKey, op.Cid.ToString(), record));
            if (path.Collection == PostCollection)
            {
                AddPost(changes, uri, commit.Repo, op.Cid.ToString(), record);
            }
            else if (path.Collection is LikeCollection or RepostCollection && StringAt(record, "subject", "uri") is { } subject)
            {
                changes.Add(new EngagementCreated(path.Collection == LikeCollection ? EngagementKind.Like : EngagementKind.Repost, subject));
            }
        }
        return new FirehoseEvent(commit.Seq, ParseTime(commit.Time), changes, records);
    }

    private static void AddPost(List<FirehoseChange> changes, string uri, string did, string cid, JsonObject record)
    {
        var parent = StringAt(record, "reply", "parent", "uri");
        var embedType = StringAt(record, "embed", "$type");
        // A quote is app.bsky.embed.record, or the record half of app.bsky.embed.recordWithMedia.
        var quoted = StringAt(record, "embed", "record", "uri") ?? StringAt(record, "embed", "record", "record", "uri");
        // Normalised as the AppView path normalises them, so both sources index a post alike.
        var hashtags = Hashtag.FromRecord(JsonSerializer.SerializeToElement(record));
        changes.Add(new PostCreated(uri, did, cid, NormalizedTime(StringAt(record, "createdAt")), StringAt(record, "text"),
            record["langs"] is JsonArray langs ? langs.ToJsonString() : null,
            parent, StringAt(record, "reply", "root", "uri"),
            // As the AppView names it, so both sources fill embed_type alike.
            embedType is null ? null : embedType + "#view",
            quoted, hashtags.Count > 0 ? JsonSerializer.Serialize(hashtags) : null));
        if (parent is not null)
        {
            changes.Add(new EngagementCreated(EngagementKind.Reply, parent));
        }
        if (quoted is not null)
        {
            changes.Add(new EngagementCreated(EngagementKind.Quote, quoted));
        }
    }

    private static string? StringAt(JsonNode? node, params string[] path)
    {
        foreach (var key in path)
        {
            node = node is JsonObject map ? map[key] : null;
        }
        return node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
    }

    // createdAt is whatever the client wrote: one that is not a date is dropped.
    private static string? NormalizedTime(string? value) => DbTime.TryParse(value, out var time) ? DbTime.ToText(time) : null;

    private static DateTimeOffset ParseTime(string time) =>
        DateTimeOffset.TryParse(time, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value)
            ? value
            : throw new AtprotoFormatException($"event time '{time}' is not a date");
}
