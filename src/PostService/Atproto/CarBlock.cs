namespace PostService.Atproto;

/// <summary>One CAR section: a block and its CID (verified), with where the block's bytes start in the CAR.</summary>
public readonly record struct CarBlock(Cid Cid, ReadOnlyMemory<byte> Data, long Offset);
