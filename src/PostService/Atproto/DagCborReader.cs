using System.Formats.Cbor;
using System.Text.Json.Nodes;

namespace PostService.Atproto;

/// <summary>
/// Decodes one DAG-CBOR block into its atproto JSON form: links become <c>{"$link": cid}</c>, byte strings
/// <c>{"$bytes": base64}</c> (standard alphabet, no padding). Strict: string map keys only, canonical encoding,
/// no floats (the atproto data model has none), no tag other than 42, bounded nesting and size.
/// </summary>
public static class DagCborReader
{
    /// <summary>Well under System.Text.Json's default writer depth (64), so decoded records can always be serialised.</summary>
    public const int DefaultMaxDepth = 32;
    public const int DefaultMaxBlockBytes = 2 * 1024 * 1024;

    public static JsonNode? ReadJson(ReadOnlyMemory<byte> block, int maxDepth = DefaultMaxDepth, int maxBlockBytes = DefaultMaxBlockBytes)
    {
        if (block.Length > maxBlockBytes)
        {
            throw new AtprotoFormatException($"DAG-CBOR block of {block.Length} bytes exceeds the {maxBlockBytes}-byte limit");
        }

        var reader = DagCbor.CreateReader(block);
        try
        {
            var value = ReadValue(reader, "DAG-CBOR block", 0, maxDepth, build: true);
            DagCbor.ExpectEnd(reader, "DAG-CBOR block");
            return value;
        }
        catch (Exception exception) when (DagCbor.IsReaderFailure(exception))
        {
            throw DagCbor.Failure("DAG-CBOR block", reader, block.Length, exception);
        }
    }

    /// <summary>Checks and skips one value (an unknown field) with the same rules, without building anything.</summary>
    internal static void SkipValue(CborReader reader, string what) => ReadValue(reader, what, 0, DefaultMaxDepth, build: false);

    private static JsonNode? ReadValue(CborReader reader, string what, int depth, int maxDepth, bool build)
    {
        if (depth > maxDepth)
        {
            throw new AtprotoFormatException($"{what}: nesting deeper than {maxDepth}");
        }

        var state = reader.PeekState();
        switch (state)
        {
            case CborReaderState.UnsignedInteger or CborReaderState.NegativeInteger:
                var integer = DagCbor.ReadInteger(reader, what);
                return build ? JsonValue.Create(integer) : null;
            case CborReaderState.TextString:
                if (!build)
                {
                    reader.ReadDefiniteLengthTextStringBytes();
                    return null;
                }

                return JsonValue.Create(reader.ReadTextString());
            case CborReaderState.Boolean:
                var boolean = reader.ReadBoolean();
                return build ? JsonValue.Create(boolean) : null;
            case CborReaderState.Null:
                reader.ReadNull();
                return null;
            case CborReaderState.ByteString:
                var bytes = reader.ReadDefiniteLengthByteString();
                return build ? new JsonObject { ["$bytes"] = Convert.ToBase64String(bytes.Span).TrimEnd('=') } : null;
            case CborReaderState.Tag:
                var link = DagCbor.ReadLink(reader, what);
                return build ? new JsonObject { ["$link"] = link.ToString() } : null;
            case CborReaderState.StartArray:
                return ReadArray(reader, what, depth, maxDepth, build);
            case CborReaderState.StartMap:
                return ReadMap(reader, what, depth, maxDepth, build);
            case CborReaderState.HalfPrecisionFloat or CborReaderState.SinglePrecisionFloat or CborReaderState.DoublePrecisionFloat:
                throw new AtprotoFormatException($"{what}: floats are not allowed in the atproto data model");
            default:
                throw new AtprotoFormatException($"{what}: {state} is not allowed in DAG-CBOR");
        }
    }

    private static JsonArray? ReadArray(CborReader reader, string what, int depth, int maxDepth, bool build)
    {
        var count = DagCbor.ReadArrayStart(reader, what);
        var array = build ? new JsonArray() : null;
        for (var i = 0; i < count; i++)
        {
            var item = ReadValue(reader, what, depth + 1, maxDepth, build);
            array?.Add(item);
        }

        reader.ReadEndArray();
        return array;
    }

    private static JsonObject? ReadMap(CborReader reader, string what, int depth, int maxDepth, bool build)
    {
        var count = DagCbor.ReadMapStart(reader, what);
        var map = build ? new JsonObject() : null;
        for (var i = 0; i < count; i++)
        {
            if (reader.PeekState() != CborReaderState.TextString)
            {
                throw new AtprotoFormatException($"{what}: map key is {reader.PeekState()}, not a string");
            }

            if (map is null)
            {
                reader.ReadDefiniteLengthTextStringBytes();
                ReadValue(reader, what, depth + 1, maxDepth, build: false);
                continue;
            }

            var key = reader.ReadTextString();
            map[key] = ReadValue(reader, what, depth + 1, maxDepth, build: true);
        }

        reader.ReadEndMap();
        return map;
    }
}
