namespace PostService.Atproto;

/// <summary>One Merkle search tree entry with its key already rebuilt from the node's prefix compression.</summary>
public sealed record MstNodeEntry(string Key, Cid Value, Cid? Right);

/// <summary>
/// A Merkle search tree node <c>{l, e: [{p, k, v, t}]}</c>. Each entry's key is the first <c>p</c> bytes of the
/// previous entry's key in this node, then <c>k</c>; <c>l</c> holds the keys before the first entry, an entry's
/// <c>t</c> those between it and the next. <c>l</c> and <c>t</c> may be null or absent. All keys of a node sit
/// on one layer, <see cref="Layer"/> (null for a node without entries).
/// </summary>
public sealed record MstNode(Cid? Left, IReadOnlyList<MstNodeEntry> Entries, int? Layer)
{
    /// <summary>Longest key accepted; real keys are an NSID (≤ 317) + '/' + record key (≤ 512).</summary>
    public const int MaxKeyLength = 1024;

    private const string What = "MST node";

    public static MstNode Decode(ReadOnlyMemory<byte> block)
    {
        var reader = DagCbor.CreateReader(block);
        try
        {
            Cid? left = null;
            List<MstNodeEntry>? entries = null;
            int? layer = null;
            var count = DagCbor.ReadMapStart(reader, What);
            for (var i = 0; i < count; i++)
            {
                var key = DagCbor.ReadKey(reader, What);
                if (key.SequenceEqual("l"u8))
                {
                    left = DagCbor.ReadNullableLink(reader, What);
                }
                else if (key.SequenceEqual("e"u8))
                {
                    entries = ReadEntries(reader, out layer);
                }
                else
                {
                    throw new AtprotoFormatException($"{What}: unexpected field");
                }
            }

            reader.ReadEndMap();
            DagCbor.ExpectEnd(reader, What);
            return new MstNode(left, entries ?? throw DagCbor.Missing(What, "e"), layer);
        }
        catch (Exception exception) when (DagCbor.IsReaderFailure(exception))
        {
            throw DagCbor.Failure(What, reader, block.Length, exception);
        }
    }

    private static List<MstNodeEntry> ReadEntries(System.Formats.Cbor.CborReader reader, out int? layer)
    {
        layer = null;
        var count = DagCbor.ReadArrayStart(reader, What);
        var entries = new List<MstNodeEntry>();
        Span<byte> previousKey = stackalloc byte[MaxKeyLength];
        var previousLength = 0;
        for (var i = 0; i < count; i++)
        {
            long? prefixLength = null;
            ReadOnlyMemory<byte>? suffix = null;
            Cid? value = null, right = null;
            var fields = DagCbor.ReadMapStart(reader, What);
            for (var f = 0; f < fields; f++)
            {
                var key = DagCbor.ReadKey(reader, What);
                if (key.SequenceEqual("p"u8)) prefixLength = DagCbor.ReadInteger(reader, What);
                else if (key.SequenceEqual("k"u8)) suffix = DagCbor.ReadBytes(reader, What);
                else if (key.SequenceEqual("v"u8)) value = DagCbor.ReadLink(reader, What);
                else if (key.SequenceEqual("t"u8)) right = DagCbor.ReadNullableLink(reader, What);
                else throw new AtprotoFormatException($"{What}: unexpected entry field");
            }

            reader.ReadEndMap();
            if (prefixLength is null || suffix is null || value is null)
            {
                throw new AtprotoFormatException($"{What}: entry {i} lacks one of p, k, v");
            }

            if (prefixLength < 0 || prefixLength > previousLength)
            {
                throw new AtprotoFormatException($"{What}: entry {i} prefix length {prefixLength} exceeds the previous key's {previousLength}");
            }

            var prefix = (int)prefixLength.Value;
            var keyLength = prefix + suffix.Value.Length;
            if (keyLength > MaxKeyLength)
            {
                throw new AtprotoFormatException($"{What}: entry {i} key longer than {MaxKeyLength} bytes");
            }

            if (keyLength == 0)
            {
                throw new AtprotoFormatException($"{What}: entry {i} has an empty key");
            }

            // Compaction is mandatory (the tree must be reproducible), so p is the whole shared prefix.
            if (prefix < previousLength && suffix.Value.Length > 0 && suffix.Value.Span[0] == previousKey[prefix])
            {
                throw new AtprotoFormatException($"{What}: entry {i} shares more than its prefix length {prefix} with the previous key");
            }

            suffix.Value.Span.CopyTo(previousKey[prefix..]);
            previousLength = keyLength;
            var depth = MstKeyDepth.Of(previousKey[..keyLength]);
            if (layer is not null && depth != layer)
            {
                throw new AtprotoFormatException($"{What}: entry {i} belongs on layer {depth}, its node's keys on {layer}");
            }

            layer = depth;
            entries.Add(new MstNodeEntry(RepoPath.KeyToString(previousKey[..keyLength]), value, right));
        }

        reader.ReadEndArray();
        return entries;
    }
}
