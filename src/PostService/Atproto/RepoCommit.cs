namespace PostService.Atproto;

/// <summary>
/// A signed repository commit, version 3: <c>{did, version: 3, data, rev, prev, sig}</c>. The signature is kept,
/// not checked: that needs the account's key from its DID document.
/// </summary>
public sealed record RepoCommit(string Did, long Version, Cid Data, string Rev, Cid? Prev, ReadOnlyMemory<byte> Signature)
{
    private const string What = "repo commit";

    public static RepoCommit Decode(ReadOnlyMemory<byte> block)
    {
        var reader = DagCbor.CreateReader(block);
        try
        {
            string? did = null, rev = null;
            long? version = null;
            Cid? data = null, prev = null;
            ReadOnlyMemory<byte>? signature = null;
            var count = DagCbor.ReadMapStart(reader, What);
            for (var i = 0; i < count; i++)
            {
                var key = DagCbor.ReadKey(reader, What);
                if (key.SequenceEqual("did"u8)) did = DagCbor.ReadString(reader, What);
                else if (key.SequenceEqual("version"u8)) version = DagCbor.ReadInteger(reader, What);
                else if (key.SequenceEqual("data"u8)) data = DagCbor.ReadLink(reader, What);
                else if (key.SequenceEqual("rev"u8)) rev = DagCbor.ReadString(reader, What);
                else if (key.SequenceEqual("prev"u8)) prev = DagCbor.ReadNullableLink(reader, What);
                else if (key.SequenceEqual("sig"u8)) signature = DagCbor.ReadBytes(reader, What);
                else DagCborReader.SkipValue(reader, What);
            }

            reader.ReadEndMap();
            DagCbor.ExpectEnd(reader, What);
            if (version != 3)
            {
                throw new AtprotoFormatException($"{What}: version {version?.ToString() ?? "missing"} is not 3");
            }

            return new RepoCommit(
                did ?? throw DagCbor.Missing(What, "did"),
                version.Value,
                data ?? throw DagCbor.Missing(What, "data"),
                rev ?? throw DagCbor.Missing(What, "rev"),
                prev,
                signature ?? throw DagCbor.Missing(What, "sig"));
        }
        catch (Exception exception) when (DagCbor.IsReaderFailure(exception))
        {
            throw DagCbor.Failure(What, reader, block.Length, exception);
        }
    }
}
