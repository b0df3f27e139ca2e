namespace PostService.Atproto;

/// <summary>Verified blocks of one CAR kept in memory, by CID.</summary>
public sealed class CarBlockMap : IBlockSource
{
    private readonly Dictionary<Cid, ReadOnlyMemory<byte>> _blocks = [];

    public CarBlockMap(CarHeader header)
    {
        Header = header;
    }

    public CarHeader Header { get; }

    public int Count => _blocks.Count;

    public bool TryGetBlock(Cid cid, out ReadOnlyMemory<byte> block) => _blocks.TryGetValue(cid, out block);

    internal void TryAdd(Cid cid, ReadOnlyMemory<byte> block) => _blocks.TryAdd(cid, block);
}
