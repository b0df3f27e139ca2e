namespace PostService.Atproto;

/// <summary>Checks shared by the in-memory and streaming CAR readers.</summary>
internal static class CarSection
{
    public static int CheckLength(ulong length, int max, long offset, string what)
    {
        if (length == 0 || length > (ulong)max)
        {
            throw new AtprotoFormatException($"CAR {what} at byte {offset}: length {length} outside 1..{max}");
        }

        return (int)length;
    }

    /// <summary>Splits a section into its CID and block and checks the block's hash.</summary>
    public static CarBlock ToBlock(ReadOnlyMemory<byte> section, long sectionOffset)
    {
        Cid cid;
        try
        {
            cid = Cid.ReadPrefix(section.Span);
        }
        catch (AtprotoFormatException exception)
        {
            throw new AtprotoFormatException($"CAR section at byte {sectionOffset}: {exception.Message}", exception);
        }

        var data = section[Cid.BinaryLength..];
        if (!cid.Verify(data.Span))
        {
            throw new AtprotoFormatException($"CAR section at byte {sectionOffset}: block does not hash to its CID {cid}");
        }

        return new CarBlock(cid, data, sectionOffset + Cid.BinaryLength);
    }
}
