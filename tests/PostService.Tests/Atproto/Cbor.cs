using System.Formats.Cbor;
using PostService.Atproto;

namespace PostService.Tests.Atproto;

/// <summary>Builds CBOR test inputs; hex for deliberately malformed bytes, a writer for well-formed ones.</summary>
internal static class Cbor
{
    public static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));

    public static byte[] Write(Action<CborWriter> write)
    {
        var writer = new CborWriter(CborConformanceMode.Lax, allowMultipleRootLevelValues: true);
        write(writer);
        return writer.Encode();
    }

    public static void WriteLink(this CborWriter writer, Cid cid)
    {
        writer.WriteTag((CborTag)42);
        writer.WriteByteString([0x00, .. cid.Bytes]);
    }

    /// <summary>A CAR v1 with the given root and blocks, each section's CID computed from its bytes.</summary>
    public static byte[] Car(Cid? root, params byte[][] blocks)
    {
        var header = Write(w =>
        {
            w.WriteStartMap(2);
            w.WriteTextString("roots");
            w.WriteStartArray(root is null ? 0 : 1);
            if (root is not null)
            {
                w.WriteLink(root);
            }

            w.WriteEndArray();
            w.WriteTextString("version");
            w.WriteInt32(1);
            w.WriteEndMap();
        });
        var car = new List<byte>();
        AppendSection(car, header);
        foreach (var block in blocks)
        {
            AppendSection(car, [.. Cid.Compute(Cid.DagCborCodec, block).Bytes, .. block]);
        }

        return [.. car];
    }

    public static void AppendVarint(List<byte> output, ulong value)
    {
        while (value >= 0x80)
        {
            output.Add((byte)(value | 0x80));
            value >>= 7;
        }

        output.Add((byte)value);
    }

    private static void AppendSection(List<byte> output, byte[] section)
    {
        AppendVarint(output, (ulong)section.Length);
        output.AddRange(section);
    }
}
