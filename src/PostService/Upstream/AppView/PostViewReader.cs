using System.Text.Json;
using PostService.Atproto;

namespace PostService.Upstream.AppView;

/// <summary>Reads the parts PostService keeps from a postView the AppView is not trusted to have sent complete.</summary>
internal static class PostViewReader
{
    /// <summary>The post, or null when uri, cid, author.did, author.handle or indexedAt is missing.</summary>
    public static HydratedPost? Read(PostView? view)
    {
        if (view is not
            {
                Uri: { Length: > 0 } uri,
                Cid: { Length: > 0 } cid,
                Author: { Did: { Length: > 0 } did, Handle: { Length: > 0 } handle },
                IndexedAt: { Length: > 0 } indexedAt,
            })
        {
            return null;
        }

        var record = view.Record;
        return new HydratedPost(
            uri,
            cid,
            did,
            handle,
            indexedAt,
            CreatedAt: StringAt(record, "createdAt"),
            Text: StringAt(record, "text"),
            Langs: StringsAt(record, "langs"),
            ReplyParentUri: StringAt(record, "reply", "parent", "uri"),
            ReplyRootUri: StringAt(record, "reply", "root", "uri"),
            EmbedType: view.Embed is { } embed ? StringAt(embed, "$type") : null,
            view.LikeCount,
            view.RepostCount,
            view.ReplyCount,
            view.QuoteCount,
            Hashtag.FromRecord(record) is { Count: > 0 } hashtags ? hashtags : null,
            PostMedia.FromEmbed(view.Embed, record) is { Count: > 0 } media ? media : null);
    }

    // The record is typed "unknown" in the lexicon, so it is read leniently: anything of the wrong shape is null.
    private static string? StringAt(JsonElement element, params ReadOnlySpan<string> path) =>
        ElementAt(element, path) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;

    private static List<string>? StringsAt(JsonElement element, string name) =>
        ElementAt(element, [name]) is { ValueKind: JsonValueKind.Array } array
            ? array.EnumerateArray()
                .Where(item => item.ValueKind == JsonValueKind.String)
                .Select(item => item.GetString()!)
                .ToList()
            : null;

    private static JsonElement? ElementAt(JsonElement element, ReadOnlySpan<string> path)
    {
        foreach (var name in path)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out element))
            {
                return null;
            }
        }

        return element;
    }
}
