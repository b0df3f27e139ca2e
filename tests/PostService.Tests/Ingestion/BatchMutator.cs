using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PostService.Tests.Ingestion;

/// <summary>
/// Valid retrieval batches made at random from a seed, and random mutations of them: field deletion, type swaps,
/// hostile values, duplicated items and ids, then byte flips, insertions, deletions and truncation.
/// </summary>
public sealed class BatchMutator(int seed)
{
    private readonly Random _random = new(seed);

    // JsonNode cannot write an unpaired surrogate; it goes into the text after writing.
    private const string LoneSurrogate = "unpaired-surrogate-here";

    private static readonly string[] HostileValues =
    [
        "null", "true", "0", "-1", "1.5", "1e400", "12345678901234567890", "\"\"", "\"x\"", "{}", "[]", "\"\\u0000\"", $"\"{LoneSurrogate}\"",
        "\"did:plc:x'); DROP TABLE posts;--\"", "\"at://did:plc:a/app.bsky.feed.post/q?x=1#f\"", "\"2025-02-30T00:00:00Z\"",
        "\"" + new string('w', 9_000) + "\"", "\"" + new string('m', 40_000) + "\"", new string('[', 70) + new string(']', 70),
    ];

    private static readonly JsonSerializerOptions Readable = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly JsonSerializerOptions Deep = new() { MaxDepth = 256 };

    public byte[] Next()
    {
        var batch = ValidBatch();
        var mutations = _random.Next(0, 3);
        for (var i = 0; i < mutations; i++)
        {
            MutateTree(batch);
        }
        var bytes = Encoding.UTF8.GetBytes(batch.ToJsonString(Deep).Replace(LoneSurrogate, "\\ud800", StringComparison.Ordinal));
        return _random.Next(4) == 0 ? MutateBytes(bytes) : bytes;
    }

    private JsonObject ValidBatch()
    {
        var retrievals = new JsonArray();
        for (var i = _random.Next(1, 4); i > 0; i--)
        {
            var posts = new JsonArray();
            for (var p = _random.Next(0, 6); p > 0; p--)
            {
                var post = new JsonObject { [Pick("uri", "uri", "postUri")] = $"at://did:plc:author{_random.Next(3)}/app.bsky.feed.post/3k{_random.Next(12)}" };
                post["position"] = _random.Next(4) switch
                {
                    0 => JsonValue.Create(p),
                    1 => JsonValue.Create($"{p}"),
                    2 => JsonValue.Create(p + 0.0),
                    _ => null,
                };
                if (_random.Next(2) == 0)
                {
                    post["cid"] = $"bafyrei{_random.Next(1_000_000)}";
                }
                posts.Add(post);
            }
            var retrieval = new JsonObject
            {
                ["id"] = _random.Next(1, 40),
                [Pick("requester_did", "user_did")] = $"did:plc:subscriber{_random.Next(5)}",
                ["timestamp"] = $"2025-05-{_random.Next(1, 29):00}T{_random.Next(24):00}:00:00{Pick("Z", ".123Z", "+02:00")}",
                ["posts"] = posts,
            };
            if (_random.Next(2) == 0)
            {
                retrieval["algo"] = Pick("research-feed", "control-feed");
            }
            retrievals.Add(retrieval);
        }
        return new JsonObject { [Pick("retrievals", "retrievals", "compliance")] = retrievals };
    }

    private void MutateTree(JsonObject root)
    {
        var nodes = Descendants(root).ToList();
        var target = nodes[_random.Next(nodes.Count)];
        switch (_random.Next(4))
        {
            case 0 when target is JsonObject { Count: > 0 } deleteFrom:
                deleteFrom.Remove(deleteFrom.ElementAt(_random.Next(deleteFrom.Count)).Key);
                break;
            case 1 when target is JsonArray { Count: > 0 } duplicateIn:
                duplicateIn.Insert(_random.Next(duplicateIn.Count + 1), duplicateIn[_random.Next(duplicateIn.Count)]?.DeepClone());
                break;
            case 2 when root.FirstOrDefault().Value is JsonArray { Count: > 1 } retrievals
                        && retrievals[0] is JsonObject first && retrievals[^1] is JsonObject last:
                last["id"] = first["id"]?.DeepClone();
                break;
            default:
                if (target.Parent is JsonObject parent)
                {
                    parent[target.GetPropertyName()] = Hostile();
                }
                else if (target.Parent is JsonArray array)
                {
                    array[target.GetElementIndex()] = Hostile();
                }
                break;
        }
    }

    private JsonNode? Hostile() => JsonNode.Parse(Pick(HostileValues), documentOptions: new JsonDocumentOptions { MaxDepth = Deep.MaxDepth });

    private byte[] MutateBytes(byte[] bytes)
    {
        var at = _random.Next(bytes.Length);
        return _random.Next(4) switch
        {
            0 => [.. bytes[..at], (byte)(bytes[at] ^ (1 << _random.Next(8))), .. bytes[(at + 1)..]],
            1 => [.. bytes[..at], Pick<byte>(0x00, 0xFF, 0xC3, (byte)'"', (byte)'{', (byte)','), .. bytes[at..]],
            2 => [.. bytes[..at], .. bytes[(at + 1)..]],
            _ => bytes[..at],
        };
    }

    private static IEnumerable<JsonNode> Descendants(JsonNode node)
    {
        yield return node;
        var children = node switch
        {
            JsonObject obj => obj.Select(pair => pair.Value),
            JsonArray array => array,
            _ => [],
        };
        foreach (var child in children.OfType<JsonNode>())
        {
            foreach (var descendant in Descendants(child))
            {
                yield return descendant;
            }
        }
    }

    private T Pick<T>(params T[] choices) => choices[_random.Next(choices.Length)];

    private string Pick(params string[] choices) => Pick<string>(choices);

    /// <summary>The body as text for a failure message: JSON escapes for anything unprintable, cut at 2,000 characters.</summary>
    public static string Show(byte[] body)
    {
        var text = JsonSerializer.Serialize(Encoding.UTF8.GetString(body), Readable);
        return text.Length <= 2_000 ? text : text[..2_000] + "…";
    }
}
