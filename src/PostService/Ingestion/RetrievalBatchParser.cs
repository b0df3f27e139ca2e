using System.Globalization;
using System.Text.Json;
using PostService.Data;
using PostService.Options;

namespace PostService.Ingestion;

/// <summary>Why a batch was refused: the HTTP status and a sentence naming the retrieval and the field.</summary>
public sealed record BatchRejection(int StatusCode, string Title, string Detail);

/// <summary>
/// Turns the feed bot's JSON into <see cref="Retrieval"/>s, accepting the synonyms the feed generator uses
/// (<c>compliance</c> for <c>retrievals</c>, <c>user_did</c> for <c>requester_did</c>, <c>postUri</c> for <c>uri</c>).
/// Any problem rejects the whole batch, so nothing is half-stored.
/// </summary>
public static class RetrievalBatchParser
{
    private const string InvalidBatch = "Invalid retrieval batch";

    public static (IReadOnlyList<Retrieval>? Retrievals, BatchRejection? Rejection) Parse(JsonElement root, IngestionOptions limits)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return Reject("The body must be a JSON object with a 'retrievals' array.");
        }
        if (!TryGetProperty(root, out var items, "retrievals", "compliance") || items.ValueKind != JsonValueKind.Array)
        {
            return Reject("The body must have a 'retrievals' (or 'compliance') array.");
        }
        if (items.GetArrayLength() > limits.MaxRetrievalsPerBatch)
        {
            return Reject($"The batch holds {items.GetArrayLength()} retrievals; at most {limits.MaxRetrievalsPerBatch} are accepted per request.");
        }

        // A re-sent id replaces the earlier copy, inside a batch as across batches: the latest copy wins.
        var byId = new Dictionary<long, Retrieval>();
        var index = 0;
        foreach (var item in items.EnumerateArray())
        {
            var (retrieval, error) = ParseRetrieval(item, $"retrievals[{index}]", limits);
            if (error is not null)
            {
                return Reject(error);
            }
            byId.Remove(retrieval!.Id);
            byId[retrieval.Id] = retrieval;
            index++;
        }
        return (byId.Values.ToList(), null);
    }

    private static (Retrieval?, string?) ParseRetrieval(JsonElement item, string at, IngestionOptions limits)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            return (null, $"{at} must be an object.");
        }
        if (!TryGetProperty(item, out var idElement, "id"))
        {
            return (null, $"{at}.id is required.");
        }
        if (idElement.ValueKind != JsonValueKind.Number || !idElement.TryGetInt64(out var id))
        {
            return (null, $"{at}.id must be an integer.");
        }
        if (!TryGetNonEmptyString(item, out var requesterDid, "requester_did", "user_did"))
        {
            return (null, $"{at}.requester_did is required and must be a non-empty string.");
        }
        string? algo = null;
        if (TryGetProperty(item, out var algoElement, "algo"))
        {
            if (algoElement.ValueKind != JsonValueKind.String)
            {
                return (null, $"{at}.algo must be a string.");
            }
            algo = algoElement.GetString();
        }
        if (!TryGetNonEmptyString(item, out var timestampText, "timestamp"))
        {
            return (null, $"{at}.timestamp is required and must be an ISO-8601 string.");
        }
        if (!DbTime.TryParse(timestampText, out var timestamp))
        {
            return (null, $"{at}.timestamp '{Truncate(timestampText)}' is not an ISO-8601 date and time.");
        }

        var posts = new List<RetrievalPost>();
        var postsJson = "[]";
        if (TryGetProperty(item, out var postsElement, "posts"))
        {
            if (postsElement.ValueKind != JsonValueKind.Array)
            {
                return (null, $"{at}.posts must be an array.");
            }
            if (postsElement.GetArrayLength() > limits.MaxPostsPerRetrieval)
            {
                return (null, $"{at}.posts holds {postsElement.GetArrayLength()} posts; at most {limits.MaxPostsPerRetrieval} are accepted per retrieval.");
            }
            postsJson = postsElement.GetRawText();
            var postIndex = 0;
            foreach (var postElement in postsElement.EnumerateArray())
            {
                var (post, error) = ParsePost(postElement, $"{at}.posts[{postIndex}]");
                if (error is not null)
                {
                    return (null, error);
                }
                posts.Add(post!);
                postIndex++;
            }
        }
        return (new Retrieval(id, requesterDid, algo, DbTime.ToText(timestamp), postsJson, posts), null);
    }

    private static (RetrievalPost?, string?) ParsePost(JsonElement element, string at)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return (null, $"{at} must be an object.");
        }
        string? uri = null;
        if (TryGetProperty(element, out var uriElement, "uri", "postUri"))
        {
            if (uriElement.ValueKind != JsonValueKind.String)
            {
                return (null, $"{at}.uri must be a string.");
            }
            uri = uriElement.GetString();
            if (string.IsNullOrEmpty(uri))
            {
                uri = null;
            }
        }
        string? cid = null;
        if (TryGetProperty(element, out var cidElement, "cid") && cidElement.ValueKind == JsonValueKind.String)
        {
            cid = cidElement.GetString();
        }
        var position = TryGetProperty(element, out var positionElement, "position") ? ReadPosition(positionElement) : null;
        return (new RetrievalPost(uri, string.IsNullOrEmpty(cid) ? null : cid, position, element.GetRawText()), null);
    }

    /// <summary>Integers, numeric strings ("15") and integral floats (7.0) are positions; anything else is unknown.</summary>
    internal static int? ReadPosition(JsonElement element)
    {
        double value;
        switch (element.ValueKind)
        {
            case JsonValueKind.Number when element.TryGetInt32(out var integer):
                return integer;
            case JsonValueKind.Number:
                value = element.GetDouble();
                break;
            case JsonValueKind.String when double.TryParse(element.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed):
                value = parsed;
                break;
            default:
                return null;
        }
        return double.IsFinite(value) && value == Math.Floor(value) && value is >= int.MinValue and <= int.MaxValue ? (int)value : null;
    }

    /// <summary>The first of <paramref name="names"/> present with a non-null value; null counts as absent.</summary>
    private static bool TryGetProperty(JsonElement element, out JsonElement value, params ReadOnlySpan<string> names)
    {
        foreach (var name in names)
        {
            if (element.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null)
            {
                return true;
            }
        }
        value = default;
        return false;
    }

    private static bool TryGetNonEmptyString(JsonElement element, out string value, params ReadOnlySpan<string> names)
    {
        value = "";
        if (!TryGetProperty(element, out var property, names) || property.ValueKind != JsonValueKind.String)
        {
            return false;
        }
        value = property.GetString()!;
        return value.Length > 0;
    }

    private static string Truncate(string text) => text.Length <= 64 ? text : text[..64] + "…";

    private static (IReadOnlyList<Retrieval>?, BatchRejection?) Reject(string detail) =>
        (null, new BatchRejection(StatusCodes.Status400BadRequest, InvalidBatch, detail));
}
