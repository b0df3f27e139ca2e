using System.Text.Json;
using System.Text.Json.Nodes;
using PostService.Storage;

namespace PostService.Backfill;

/// <summary>The kinds of record a backfill keeps, as <c>--collections</c> names them and <c>repo_records.record_type</c> stores them.</summary>
public static class RepoRecordType
{
    public const string Post = "post";
    public const string Reply = "reply";
    public const string Quote = "quote";
    public const string Like = "like";
    public const string Repost = "repost";
    public const string Follow = "follow";
    public const string Block = "block";

    public static readonly IReadOnlyList<string> All = [Post, Reply, Quote, Like, Repost, Follow, Block];
}

/// <summary>One record as <c>repo_records</c> keeps it.</summary>
public sealed record RepoRecordRow(
    string Uri, string Did, string Collection, string Rkey, string Cid, string RecordType, string? CreatedAt,
    string? SubjectUri, string? SubjectDid, string RecordJson);

/// <summary>What a post record says, for a <c>posts</c> row that is not yet <c>ok</c>.</summary>
public sealed record RepoPostMetadata(
    string PostUri, string Cid, string AuthorDid, string? CreatedAt, string? Text, string? Langs, string? ReplyParentUri, string? ReplyRootUri, string? EmbedType);

/// <summary>
/// Sorts a repository's records into the kinds the study asks about: a post is a <c>reply</c> when it has a parent (its
/// subject), else a <c>quote</c> when it embeds a record (the quoted post), else a <c>post</c>; likes and reposts have the
/// post they are about as subject, follows and blocks the account. Other collections are not kept.
/// </summary>
public static class RepoRecordClassifier
{
    public const string PostCollection = "app.bsky.feed.post";

    public static RepoRecordRow? Classify(string did, string collection, string rkey, string cid, JsonNode value)
    {
        var (type, subjectUri, subjectDid) = collection switch
        {
            PostCollection when StringAt(value, "reply", "parent", "uri") is { } parent => (RepoRecordType.Reply, parent, null),
            PostCollection when QuotedUri(value) is { } quoted => (RepoRecordType.Quote, quoted, null),
            PostCollection => (RepoRecordType.Post, null, null),
            "app.bsky.feed.like" => (RepoRecordType.Like, StringAt(value, "subject", "uri"), null),
            "app.bsky.feed.repost" => (RepoRecordType.Repost, StringAt(value, "subject", "uri"), null),
            "app.bsky.graph.follow" => (RepoRecordType.Follow, null, StringAt(value, "subject")),
            "app.bsky.graph.block" => (RepoRecordType.Block, null, StringAt(value, "subject")),
            _ => ((string?)null, (string?)null, (string?)null),
        };
        return type is null
            ? null
            : new RepoRecordRow($"at://{did}/{collection}/{rkey}", did, collection, rkey, cid, type, CreatedAt(value), subjectUri, subjectDid,
                value.ToJsonString());
    }

    /// <summary>The record's <c>createdAt</c> as stored, or null when it has none that is a time (it is then not invented).</summary>
    public static string? CreatedAt(JsonNode value) => DbTime.TryParse(StringAt(value, "createdAt"), out var time) ? DbTime.ToText(time) : null;

    /// <summary>Inside <c>[since, until)</c>; a record without a valid time is kept whatever the window.</summary>
    public static bool InWindow(RepoRecordRow row, string? since, string? until) =>
        row.CreatedAt is null
        || ((since is null || string.CompareOrdinal(row.CreatedAt, since) >= 0) && (until is null || string.CompareOrdinal(row.CreatedAt, until) < 0));

    public static RepoPostMetadata? PostMetadata(RepoRecordRow row, JsonNode value) =>
        row.Collection != PostCollection
            ? null
            : new RepoPostMetadata(row.Uri, row.Cid, row.Did, row.CreatedAt, StringAt(value, "text"),
                value["langs"] is JsonArray langs
                    ? JsonSerializer.Serialize(langs.OfType<JsonValue>().Select(lang => lang.TryGetValue<string>(out var tag) ? tag : null).OfType<string>().ToArray())
                    : null,
                StringAt(value, "reply", "parent", "uri"), StringAt(value, "reply", "root", "uri"), StringAt(value, "embed", "$type"));

    private static string? QuotedUri(JsonNode value) => StringAt(value, "embed", "$type") switch
    {
        "app.bsky.embed.record" => StringAt(value, "embed", "record", "uri"),
        "app.bsky.embed.recordWithMedia" => StringAt(value, "embed", "record", "record", "uri"),
        _ => null,
    };

    private static string? StringAt(JsonNode? node, params string[] path)
    {
        foreach (var name in path)
        {
            node = node is JsonObject map && map.TryGetPropertyValue(name, out var next) ? next : null;
        }
        return node is JsonValue leaf && leaf.TryGetValue<string>(out var text) ? text : null;
    }
}
