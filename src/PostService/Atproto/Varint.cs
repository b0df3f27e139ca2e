namespace PostService.Atproto;

/// <summary>Multiformats unsigned varint (LEB128): at most 9 bytes, minimally encoded.</summary>
internal static class Varint
{
    public const int MaxLength = 9;

    /// <summary>Reads one varint; returns false when <paramref name="data"/> ends before it does.</summary>
    public static bool TryRead(ReadOnlySpan<byte> data, out ulong value, out int length)
    {
        value = 0;
        for (var i = 0; i < data.Length; i++)
        {
            if (i == MaxLength)
            {
                throw new AtprotoFormatException("varint longer than 9 bytes");
            }

            var current = data[i];
            value |= (ulong)(current & 0x7F) << (7 * i);
            if ((current & 0x80) == 0)
            {
                // A trailing zero group means a longer encoding than needed, which the spec forbids.
                if (current == 0 && i > 0)
                {
                    throw new AtprotoFormatException("varint is not minimally encoded");
                }

                length = i + 1;
                return true;
            }
        }

        length = 0;
        return false;
    }
}
