using System.Globalization;
using System.Text.Json;
using PostService.Atproto;
using PostService.Storage;

namespace PostService.Ingestion;

/// <summary>Why a batch was refused: the HTTP status and a sentence naming the retrieval and the field.</summary>
public sealed record BatchRejection(int StatusCode, string Title, string Detail);

/// <summary>
/// Turns the feed bot's JSON into <see cref="Retrieval"/>s, accepting the synonyms the feed generator uses
/// (<c>compliance</c> for <c>retrievals</c>, <c>user_did</c> for <c>requester_did</c>, <c>postUri</c> for <c>uri</c>).
/// Any problem rejects the whole batch, so nothing is half-stored. What no real record can look like is a problem:
/// a wrong JSON type, a missing required field, a timestamp that is not a date, a control character or invalid
/// Unicode in a string, a string over its length limit, two different records with one id. What a buggy feed can
/// serve is kept and flagged instead: a URI that is not a post's at-URI (an <c>invalid</c> post), a position that is
/// not a non-negative integer (NULL), a URI served twice (one row); every item stays verbatim in <c>posts_json</c>.
/// </summary>
public static class RetrievalBatchParser
{
    /// <summary>The DID specification caps a DID at 2 KiB.</summary>
    public const int MaxDidLength = 2 * 1024;

    /// <summary>A feed name, or a feed generator's at-URI.</summary>
    public const int MaxAlgoLength = AtUri.MaxLength;

    /// <summary>A CID of a record is about 60 characters; this leaves room for any hash and base.</summary>
    public const int MaxCidLength = 256;

    /// <summary>ISO-8601 with offset and fractions fits in 40 characters.</summary>
    public const int MaxTimestampLength = 64;

    private const string InvalidBatch = "Invalid retrieval batch";

    public static (RetrievalBatch? Batch, BatchRejection? Rejection) Parse(JsonElement root, IngestionOptions limits)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return Reject("The body must be a JSON object with a 'retrievals' array.");
        }
        if (!TryGetProperty(root, out var items, "retrievals", "compliance") || items.ValueKind != JsonValueKind.Array)
        {
            return Reject("The body must have a 'retrievals' (or 'compliance') array.");
        }
        if (items.GetArrayLength() == 0)
        {
            return Reject("The 'retrievals' array is empty; send at least one retrieval.");
        }
        if (items.GetArrayLength() > limits.MaxRetrievalsPerBatch)
        {
            return Reject($"The batch holds {items.GetArrayLength()} retrievals; at most {limits.MaxRetrievalsPerBatch} are accepted per request.");
        }

        // A re-sent id replaces the stored request across batches. Inside one batch, a byte-identical copy is stored
        // once; two different records with one id are refused, as storing either would silently lose the other.
        var firstById = new Dictionary<long, (int Index, string RawJson)>();
        var retrievals = new List<Retrieval>();
        var identicalCopies = 0;
        var index = 0;
        foreach (var item in items.EnumerateArray())
        {
            var (retrieval, error) = ParseRetrieval(item, $"retrievals[{index}]", limits);
            if (error is not null)
            {
                return Reject(error);
            }
            var rawJson = item.GetRawText();
            if (firstById.TryGetValue(retrieval!.Id, out var first))
            {
                if (first.RawJson != rawJson)
                {
                    return Reject($"retrievals[{first.Index}] and retrievals[{index}] have the same id {retrieval.Id} but differ; send one record per id.");
                }
                identicalCopies++;
            }
            else
            {
                firstById[retrieval.Id] = (index, rawJson);
                retrievals.Add(retrieval);
            }
            index++;
        }
        return (new RetrievalBatch(retrievals, identicalCopies), null);
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
        var (requesterDid, error) = ReadString(item, $"{at}.requester_did", MaxDidLength, "requester_did", "user_did");
        if (error is not null || string.IsNullOrEmpty(requesterDid))
        {
            return (null, error ?? $"{at}.requester_did is required and must be a non-empty string.");
        }
        (var algo, error) = ReadString(item, $"{at}.algo", MaxAlgoLength, "algo");
        if (error is not null)
        {
            return (null, error);
        }
        (var timestampText, error) = ReadString(item, $"{at}.timestamp", MaxTimestampLength, "timestamp");
        if (error is not null || string.IsNullOrEmpty(timestampText))
        {
            return (null, error ?? $"{at}.timestamp is required and must be an ISO-8601 string.");
        }
        if (!DbTime.TryParse(timestampText, out var timestamp))
        {
            return (null, $"{at}.timestamp '{timestampText}' is not an ISO-8601 date and time.");
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
                var (post, postError) = ParsePost(postElement, $"{at}.posts[{postIndex}]");
                if (postError is not null)
                {
                    return (null, postError);
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
        var (uri, error) = ReadString(element, $"{at}.uri", AtUri.MaxLength, "uri", "postUri");
        if (error is not null)
        {
            return (null, error);
        }
        (var cid, error) = ReadString(element, $"{at}.cid", MaxCidLength, "cid");
        if (error is not null)
        {
            return (null, error);
        }
        var position = TryGetProperty(element, out var positionElement, "position") ? ReadPosition(positionElement) : null;
        return (new RetrievalPost(NullIfEmpty(uri), NullIfEmpty(cid), position, element.GetRawText()), null);
    }

    /// <summary>
    /// Non-negative integers, numeric strings of them ("15") and integral floats (7.0) are positions; anything else
    /// (negative, fractional, out of range, text, another type) is unknown: NULL, with the item kept verbatim.
    /// </summary>
    internal static int? ReadPosition(JsonElement element)
    {
        double value;
        switch (element.ValueKind)
        {
            case JsonValueKind.Number when element.TryGetInt32(out var integer):
                return integer >= 0 ? integer : null;
            case JsonValueKind.Number when element.TryGetDouble(out var number):
                value = number;
                break;
            case JsonValueKind.String when TryGetString(element, out var text)
                                           && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed):
                value = parsed;
                break;
            default:
                return null;
        }
        return double.IsFinite(value) && value == Math.Floor(value) && value is >= 0 and <= int.MaxValue ? (int)value : null;
    }

    /// <summary>
    /// An optional string field: absent or null gives null. Present, it must be a string of valid Unicode, without
    /// control characters (they have no place in a DID, URI, CID or date, and would let a value forge log lines),
    /// and at most <paramref name="maxLength"/> characters.
    /// </summary>
    private static (string? Value, string? Error) ReadString(JsonElement element, string at, int maxLength, params ReadOnlySpan<string> names)
    {
        if (!TryGetProperty(element, out var property, names))
        {
            return (null, null);
        }
        if (property.ValueKind != JsonValueKind.String)
        {
            return (null, $"{at} must be a string.");
        }
        if (!TryGetString(property, out var value))
        {
            return (null, $"{at} is not valid Unicode (an unpaired surrogate escape).");
        }
        if (value.Length > maxLength)
        {
            return (null, $"{at} is {value.Length} characters long; at most {maxLength} are accepted.");
        }
        if (value.AsSpan().IndexOfAnyInRange('\u0000', '\u001f') >= 0 || value.Contains('\u007f'))
        {
            return (null, $"{at} contains a control character (U+0000 to U+001F or U+007F).");
        }
        return (value, null);
    }

    /// <summary>The string value; false for an escaped unpaired surrogate (<c>"\ud800"</c>), which is valid JSON but no text.</summary>
    private static bool TryGetString(JsonElement element, out string value)
    {
        try
        {
            value = element.GetString()!;
            return true;
        }
        catch (InvalidOperationException)
        {
            value = "";
            return false;
        }
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

    private static string? NullIfEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;

    private static (RetrievalBatch?, BatchRejection?) Reject(string detail) =>
        (null, new BatchRejection(StatusCodes.Status400BadRequest, InvalidBatch, detail));
}
