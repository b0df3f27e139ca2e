using System.Formats.Cbor;
using System.Text;

namespace PostService.Atproto;

/// <summary>
/// Shared strict DAG-CBOR reading on top of <see cref="CborReader"/>: canonical mode (shortest integers, definite
/// lengths, sorted unique map keys, valid UTF-8), links as tag 42, and one place that turns the reader's own
/// exceptions into <see cref="AtprotoFormatException"/>.
/// </summary>
internal static class DagCbor
{
    public const ulong LinkTag = 42;

    public static CborReader CreateReader(ReadOnlyMemory<byte> data, bool allowMultipleRootLevelValues = false) =>
        new(data, CborConformanceMode.Canonical, allowMultipleRootLevelValues);

    /// <summary>True for the exceptions <see cref="CborReader"/> throws on malformed or unexpected input.</summary>
    public static bool IsReaderFailure(Exception exception) =>
        exception is CborContentException or InvalidOperationException or OverflowException or FormatException
            or DecoderFallbackException;

    public static AtprotoFormatException Failure(string what, CborReader reader, int totalLength, Exception inner) =>
        new($"{what}: invalid DAG-CBOR at byte {totalLength - reader.BytesRemaining}: {inner.Message}", inner);

    public static int ReadMapStart(CborReader reader, string what)
    {
        if (reader.PeekState() != CborReaderState.StartMap)
        {
            throw new AtprotoFormatException($"{what}: expected a map, found {reader.PeekState()}");
        }

        return reader.ReadStartMap() ?? throw new AtprotoFormatException($"{what}: indefinite-length map");
    }

    public static int ReadArrayStart(CborReader reader, string what)
    {
        if (reader.PeekState() != CborReaderState.StartArray)
        {
            throw new AtprotoFormatException($"{what}: expected an array, found {reader.PeekState()}");
        }

        return reader.ReadStartArray() ?? throw new AtprotoFormatException($"{what}: indefinite-length array");
    }

    /// <summary>A map key as raw UTF-8, for allocation-free comparison with known field names.</summary>
    public static ReadOnlySpan<byte> ReadKey(CborReader reader, string what)
    {
        if (reader.PeekState() != CborReaderState.TextString)
        {
            throw new AtprotoFormatException($"{what}: map key is {reader.PeekState()}, not a string");
        }

        return reader.ReadDefiniteLengthTextStringBytes().Span;
    }

    public static string ReadString(CborReader reader, string what)
    {
        Expect(reader, CborReaderState.TextString, what);
        return reader.ReadTextString();
    }

    public static string? ReadNullableString(CborReader reader, string what) =>
        TryReadNull(reader) ? null : ReadString(reader, what);

    public static long ReadInteger(CborReader reader, string what)
    {
        var state = reader.PeekState();
        if (state != CborReaderState.UnsignedInteger && state != CborReaderState.NegativeInteger)
        {
            throw new AtprotoFormatException($"{what}: expected an integer, found {state}");
        }

        try
        {
            return reader.ReadInt64();
        }
        catch (OverflowException)
        {
            throw new AtprotoFormatException($"{what}: integer outside the signed 64-bit range");
        }
    }

    public static bool ReadBoolean(CborReader reader, string what)
    {
        Expect(reader, CborReaderState.Boolean, what);
        return reader.ReadBoolean();
    }

    public static ReadOnlyMemory<byte> ReadBytes(CborReader reader, string what)
    {
        Expect(reader, CborReaderState.ByteString, what);
        return reader.ReadDefiniteLengthByteString();
    }

    /// <summary>A link: tag 42 over a byte string holding 0x00 then a binary CID.</summary>
    public static Cid ReadLink(CborReader reader, string what)
    {
        Expect(reader, CborReaderState.Tag, what);
        var tag = (ulong)reader.ReadTag();
        if (tag != LinkTag)
        {
            throw new AtprotoFormatException($"{what}: CBOR tag {tag} is not allowed (only 42, links)");
        }

        Expect(reader, CborReaderState.ByteString, what);
        var bytes = reader.ReadDefiniteLengthByteString().Span;
        if (bytes.Length == 0 || bytes[0] != 0x00)
        {
            throw new AtprotoFormatException($"{what}: link bytes must start with the 0x00 multibase prefix");
        }

        return Cid.FromBytes(bytes[1..]);
    }

    public static Cid? ReadNullableLink(CborReader reader, string what) =>
        TryReadNull(reader) ? null : ReadLink(reader, what);

    public static bool TryReadNull(CborReader reader)
    {
        if (reader.PeekState() != CborReaderState.Null)
        {
            return false;
        }

        reader.ReadNull();
        return true;
    }

    public static void ExpectEnd(CborReader reader, string what)
    {
        if (reader.BytesRemaining != 0)
        {
            throw new AtprotoFormatException($"{what}: {reader.BytesRemaining} bytes after the value");
        }
    }

    public static AtprotoFormatException Missing(string what, string field) => new($"{what}: required field '{field}' is missing");

    private static void Expect(CborReader reader, CborReaderState expected, string what)
    {
        var state = reader.PeekState();
        if (state != expected)
        {
            throw new AtprotoFormatException($"{what}: expected {expected}, found {state}");
        }
    }
}
