using System.Text.Json;

namespace PostService.Atproto;

/// <summary>What a post embeds; stored lower-case in <c>post_media.kind</c>.</summary>
public enum MediaKind
{
    Image,
    Video,
    External,
    Quote,
}

public static class MediaKinds
{
    /// <summary>The <see cref="MediaKind"/> names as stored and served: <c>image</c>, <c>video</c>, <c>external</c>, <c>quote</c>.</summary>
    public static readonly IReadOnlyList<string> All = [.. Enum.GetNames<MediaKind>().Select(name => name.ToLowerInvariant())];
}

/// <summary>
/// One embedded item. Images: full-size URL, alt text, aspect ratio, blob CID. Video: playlist URL, alt, aspect
/// ratio, CID. External link: its URI, title and description. Quote: the quoted post's URI.
/// </summary>
public sealed record MediaItem(
    MediaKind Kind, string? Url, string? Alt = null, int? Width = null, int? Height = null, string? BlobCid = null,
    string? Title = null, string? Description = null, string? QuotedUri = null);

/// <summary>
/// Reads a post's media from the AppView's embed view (<c>app.bsky.embed.*#view</c>) and the record's embed, which holds
/// the images' blob CIDs; <c>recordWithMedia</c> gives the quote and the media both. Anything of the wrong shape is skipped.
/// </summary>
public static class PostMedia
{
    public static IReadOnlyList<MediaItem> FromEmbed(JsonElement? view, JsonElement record)
    {
        var items = new List<MediaItem>();
        if (view is { ValueKind: JsonValueKind.Object } embed)
        {
            Add(items, embed, Property(record, "embed"));
        }
        return items;
    }

    private static void Add(List<MediaItem> items, JsonElement view, JsonElement? recordEmbed)
    {
        switch (String(view, "$type"))
        {
            case "app.bsky.embed.images#view":
                var blobs = Property(recordEmbed, "images") is { ValueKind: JsonValueKind.Array } array ? array.EnumerateArray().ToList() : [];
                var index = 0;
                foreach (var image in Array(view, "images"))
                {
                    var blob = index < blobs.Count ? blobs[index] : (JsonElement?)null;
                    var (width, height) = AspectRatio(image);
                    items.Add(new MediaItem(MediaKind.Image, String(image, "fullsize"), String(image, "alt"), width, height,
                        BlobCid: String(Property(Property(blob, "image"), "ref"), "$link")));
                    index++;
                }
                break;
            case "app.bsky.embed.video#view":
                var (videoWidth, videoHeight) = AspectRatio(view);
                items.Add(new MediaItem(MediaKind.Video, String(view, "playlist"), String(view, "alt"), videoWidth, videoHeight, String(view, "cid")));
                break;
            case "app.bsky.embed.external#view":
                var external = Property(view, "external");
                items.Add(new MediaItem(MediaKind.External, String(external, "uri"), Title: String(external, "title"), Description: String(external, "description")));
                break;
            case "app.bsky.embed.record#view":
                items.Add(new MediaItem(MediaKind.Quote, null, QuotedUri: String(Property(view, "record"), "uri")));
                break;
            case "app.bsky.embed.recordWithMedia#view":
                items.Add(new MediaItem(MediaKind.Quote, null, QuotedUri: String(Property(Property(view, "record"), "record"), "uri")));
                if (Property(view, "media") is { ValueKind: JsonValueKind.Object } media)
                {
                    Add(items, media, Property(recordEmbed, "media"));
                }
                break;
        }
    }

    private static (int? Width, int? Height) AspectRatio(JsonElement element) =>
        Property(element, "aspectRatio") is { } ratio ? (Integer(ratio, "width"), Integer(ratio, "height")) : (null, null);

    private static IEnumerable<JsonElement> Array(JsonElement element, string name) =>
        Property(element, name) is { ValueKind: JsonValueKind.Array } array ? array.EnumerateArray() : [];

    private static JsonElement? Property(JsonElement? element, string name) =>
        element is { ValueKind: JsonValueKind.Object } value && value.TryGetProperty(name, out var property) ? property : null;

    private static string? String(JsonElement? element, string name) =>
        Property(element, name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;

    private static int? Integer(JsonElement? element, string name) =>
        Property(element, name) is { ValueKind: JsonValueKind.Number } value && value.TryGetInt32(out var number) ? number : null;
}
