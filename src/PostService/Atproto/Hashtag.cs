using System.Text;
using System.Text.Json;

namespace PostService.Atproto;

/// <summary>Hashtags of a post record: its <c>#tag</c> facets and its <c>tags</c> field, one normal form for both.</summary>
public static class Hashtag
{
    private const string TagFeature = "app.bsky.richtext.facet#tag";

    /// <summary>
    /// NFKC-normalised (so full-width and compatibility forms match their plain ones), lower-cased, without the leading
    /// <c>#</c>; null for a tag that is empty once normalised.
    /// </summary>
    public static string? Normalize(string? tag)
    {
        if (tag is null)
        {
            return null;
        }
        var normalized = tag.Normalize(NormalizationForm.FormKC).Trim().TrimStart('#').Trim().ToLowerInvariant();
        return normalized.Length == 0 ? null : normalized;
    }

    /// <summary>The distinct normalised hashtags of an <c>app.bsky.feed.post</c> record, in order of appearance.</summary>
    public static IReadOnlyList<string> FromRecord(JsonElement record)
    {
        var tags = new List<string>();
        if (record.ValueKind != JsonValueKind.Object)
        {
            return tags;
        }
        if (record.TryGetProperty("facets", out var facets) && facets.ValueKind == JsonValueKind.Array)
        {
            foreach (var facet in facets.EnumerateArray())
            {
                if (facet.ValueKind != JsonValueKind.Object || !facet.TryGetProperty("features", out var features) || features.ValueKind != JsonValueKind.Array)
                {
                    continue;
                }
                foreach (var feature in features.EnumerateArray())
                {
                    if (feature.ValueKind == JsonValueKind.Object && StringProperty(feature, "$type") == TagFeature)
                    {
                        tags.Add(StringProperty(feature, "tag") ?? "");
                    }
                }
            }
        }
        if (record.TryGetProperty("tags", out var recordTags) && recordTags.ValueKind == JsonValueKind.Array)
        {
            tags.AddRange(recordTags.EnumerateArray().Where(tag => tag.ValueKind == JsonValueKind.String).Select(tag => tag.GetString()!));
        }
        return tags.Select(Normalize).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
    }

    private static string? StringProperty(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
