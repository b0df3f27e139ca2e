namespace PostService.Atproto;

/// <summary>RFC 4648 base32, lower-case alphabet, no padding: the multibase "b" encoding of CIDs.</summary>
internal static class Base32
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    public static string Encode(ReadOnlySpan<byte> data)
    {
        var length = (data.Length * 8 + 4) / 5;
        var chars = length <= 256 ? stackalloc char[length] : new char[length];
        var buffer = 0;
        var bits = 0;
        var written = 0;
        foreach (var b in data)
        {
            buffer = ((buffer << 8) | b) & 0xFFF;
            bits += 8;
            while (bits >= 5)
            {
                bits -= 5;
                chars[written++] = Alphabet[(buffer >> bits) & 31];
            }
        }

        if (bits > 0)
        {
            chars[written] = Alphabet[(buffer << (5 - bits)) & 31];
        }

        return new string(chars);
    }

    /// <summary>Decodes into <paramref name="destination"/>; false on a foreign character, wrong length or non-zero pad bits.</summary>
    public static bool TryDecode(ReadOnlySpan<char> text, Span<byte> destination, out int written)
    {
        written = 0;
        var buffer = 0;
        var bits = 0;
        foreach (var c in text)
        {
            int digit = c switch
            {
                >= 'a' and <= 'z' => c - 'a',
                >= '2' and <= '7' => c - '2' + 26,
                _ => -1,
            };
            if (digit < 0)
            {
                return false;
            }

            buffer = ((buffer << 5) | digit) & 0xFFF;
            bits += 5;
            if (bits >= 8)
            {
                bits -= 8;
                if (written == destination.Length)
                {
                    return false;
                }

                destination[written++] = (byte)(buffer >> bits);
            }
        }

        // Leftover bits must be fewer than a byte and all zero, or the text is not a canonical encoding.
        return bits < 5 && (buffer & ((1 << bits) - 1)) == 0;
    }
}
