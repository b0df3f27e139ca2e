using System.Text;
using System.Text.Json;

namespace PostService.Tests.Ingestion;

/// <summary>Raw request bodies for the hostile-input tables: valid retrievals with one part replaced by a raw JSON fragment.</summary>
public static class HostileInput
{
    public const string ValidUri = "\"at://did:plc:author1/app.bsky.feed.post/3kvalid\"";

    /// <summary>A JSON string literal of <paramref name="text"/>, escaped as System.Text.Json writes it.</summary>
    public static string Q(string text) => JsonSerializer.Serialize(text);

    public static string Batch(params string[] retrievals) => $$"""{"retrievals":[{{string.Join(",", retrievals)}}]}""";

    /// <summary>One retrieval; each argument is the raw JSON of its field, <see cref="Omit"/> leaves the field out.</summary>
    public static string Retrieval(
        string id = "1", string requesterDid = "\"did:plc:subscriber1\"", string algo = "\"research-feed\"",
        string timestamp = "\"2025-05-01T12:00:00.000Z\"", string? posts = null) =>
        Object(("id", id), ("requester_did", requesterDid), ("algo", algo), ("timestamp", timestamp), ("posts", posts ?? $"[{Post()}]"));

    public static string Post(string uri = ValidUri, string position = "0", string cid = Omit) =>
        Object(("uri", uri), ("position", position), ("cid", cid));

    /// <summary>Leaves a field out.</summary>
    public const string Omit = "";

    public static string Nested(int depth) => new string('[', depth) + new string(']', depth);

    /// <summary>The UTF-8 bytes of <paramref name="json"/> with the first <c>@@</c> replaced by raw bytes.</summary>
    public static byte[] WithRawBytes(string json, params byte[] bytes)
    {
        var at = json.IndexOf("@@", StringComparison.Ordinal);
        return [.. Encoding.UTF8.GetBytes(json[..at]), .. bytes, .. Encoding.UTF8.GetBytes(json[(at + 2)..])];
    }

    private static string Object(params (string Name, string Json)[] fields) =>
        "{" + string.Join(",", fields.Where(field => field.Json != Omit).Select(field => $"\"{field.Name}\":{field.Json}")) + "}";
}
