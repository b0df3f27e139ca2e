using System.Numerics;
using System.Security.Cryptography;

namespace PostService.Atproto;

/// <summary>
/// The tree layer a key belongs on: leading zero bits of its sha-256, in 2-bit steps (fanout 4). The spec asks
/// readers to check it, since a tree with keys on the wrong layer is not the one its content determines.
/// </summary>
internal static class MstKeyDepth
{
    public static int Of(ReadOnlySpan<byte> key)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(key, hash);
        var zeroBits = 0;
        foreach (var b in hash)
        {
            if (b != 0)
            {
                zeroBits += BitOperations.LeadingZeroCount((uint)b) - 24;
                break;
            }

            zeroBits += 8;
        }

        return zeroBits / 2;
    }
}
