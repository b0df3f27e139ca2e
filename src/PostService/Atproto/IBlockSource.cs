namespace PostService.Atproto;

/// <summary>Blocks by CID, already verified against their CIDs.</summary>
public interface IBlockSource
{
    bool TryGetBlock(Cid cid, out ReadOnlyMemory<byte> block);
}
