namespace PostService.Atproto;

/// <summary>The CAR v1 header <c>{version: 1, roots: [CID]}</c>.</summary>
public sealed record CarHeader(IReadOnlyList<Cid> Roots)
{
    private const string What = "CAR header";

    internal static CarHeader Decode(ReadOnlyMemory<byte> bytes)
    {
        var reader = DagCbor.CreateReader(bytes);
        try
        {
            long? version = null;
            List<Cid>? roots = null;
            var count = DagCbor.ReadMapStart(reader, What);
            for (var i = 0; i < count; i++)
            {
                var key = DagCbor.ReadKey(reader, What);
                if (key.SequenceEqual("version"u8))
                {
                    version = DagCbor.ReadInteger(reader, What);
                }
                else if (key.SequenceEqual("roots"u8))
                {
                    var rootCount = DagCbor.ReadArrayStart(reader, What);
                    roots = [];
                    for (var r = 0; r < rootCount; r++)
                    {
                        roots.Add(DagCbor.ReadLink(reader, What));
                    }

                    reader.ReadEndArray();
                }
                else
                {
                    DagCborReader.SkipValue(reader, What);
                }
            }

            reader.ReadEndMap();
            DagCbor.ExpectEnd(reader, What);
            if (version != 1)
            {
                throw new AtprotoFormatException($"{What}: version {version?.ToString() ?? "missing"} is not 1");
            }

            return new CarHeader(roots ?? throw DagCbor.Missing(What, "roots"));
        }
        catch (Exception exception) when (DagCbor.IsReaderFailure(exception))
        {
            throw DagCbor.Failure(What, reader, bytes.Length, exception);
        }
    }
}
