using System.Formats.Cbor;
using System.Text.Json.Nodes;
using PostService.Atproto;

namespace PostService.Bench;

/// <summary>
/// Encodes the atproto JSON form (as <see cref="DagCborReader.ReadJson"/> gives it: <c>{"$link"}</c>, <c>{"$bytes"}</c>)
/// back into DAG-CBOR, canonical as the reader requires, for rewriting recorded firehose frames.
/// </summary>
internal static class DagCborWriter
{
    public static byte[] Encode(JsonNode? value)
    {
        var writer = new CborWriter(CborConformanceMode.Canonical);
        Write(writer, value);
        return writer.Encode();
    }

    /// <summary>A link to <paramref name="cid"/> in the JSON form.</summary>
    public static JsonObject Link(Cid cid) => new() { ["$link"] = cid.ToString() };

    private static void Write(CborWriter writer, JsonNode? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNull();
                break;
            case JsonObject map when map.Count == 1 && map["$link"] is JsonValue link:
                writer.WriteTag((CborTag)42);
                writer.WriteByteString([0x00, .. Cid.Parse(link.GetValue<string>()).Bytes]);
                break;
            case JsonObject map when map.Count == 1 && map["$bytes"] is JsonValue bytes:
                writer.WriteByteString(Convert.FromBase64String(Padded(bytes.GetValue<string>())));
                break;
            case JsonObject map:
                writer.WriteStartMap(map.Count);
                foreach (var (key, item) in map)
                {
                    writer.WriteTextString(key);
                    Write(writer, item);
                }
                writer.WriteEndMap();
                break;
            case JsonArray array:
                writer.WriteStartArray(array.Count);
                foreach (var item in array)
                {
                    Write(writer, item);
                }
                writer.WriteEndArray();
                break;
            case JsonValue scalar when scalar.TryGetValue<string>(out var text):
                writer.WriteTextString(text);
                break;
            case JsonValue scalar when scalar.TryGetValue<bool>(out var flag):
                writer.WriteBoolean(flag);
                break;
            case JsonValue scalar when scalar.TryGetValue<int>(out var small):
                writer.WriteInt32(small);
                break;
            case JsonValue scalar:
                writer.WriteInt64(scalar.GetValue<long>());
                break;
        }
    }

    /// <summary>The JSON form's base64 has no padding; .NET wants it.</summary>
    public static string Padded(string base64) => base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4, '=');

    /// <summary>A CAR v1: the header with <paramref name="roots"/>, then each block with its CID.</summary>
    public static byte[] Car(IReadOnlyList<Cid> roots, IEnumerable<(Cid Cid, ReadOnlyMemory<byte> Data)> blocks)
    {
        var output = new MemoryStream();
        var header = Encode(new JsonObject { ["version"] = 1, ["roots"] = new JsonArray([.. roots.Select(root => (JsonNode)Link(root))]) });
        WriteVarint(output, (ulong)header.Length);
        output.Write(header);
        foreach (var (cid, data) in blocks)
        {
            WriteVarint(output, (ulong)(cid.Bytes.Length + data.Length));
            output.Write(cid.Bytes);
            output.Write(data.Span);
        }
        return output.ToArray();
    }

    private static void WriteVarint(Stream output, ulong value)
    {
        while (value >= 0x80)
        {
            output.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        output.WriteByte((byte)value);
    }
}
