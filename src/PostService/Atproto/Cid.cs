using System.Buffers.Binary;
using System.Security.Cryptography;

namespace PostService.Atproto;

/// <summary>
/// A content identifier in the one form atproto blesses: CIDv1, codec dag-cbor (0x71) or raw (0x55), sha2-256 multihash.
/// CIDv0 and other codecs or hashes are rejected: the data model spec allows only this form in repositories and links.
/// </summary>
public sealed class Cid : IEquatable<Cid>
{
    public const byte DagCborCodec = 0x71;
    public const byte RawCodec = 0x55;

    /// <summary>Binary length: version, codec, hash code, digest length, 32-byte digest.</summary>
    public const int BinaryLength = 36;

    private const byte Version1 = 0x01;
    private const byte Sha256Code = 0x12;
    private const byte Sha256Length = 0x20;
    private const int DigestOffset = 4;

    private readonly byte[] _bytes;

    private Cid(byte[] bytes)
    {
        _bytes = bytes;
    }

    public byte Codec => _bytes[1];

    public ReadOnlySpan<byte> Digest => _bytes.AsSpan(DigestOffset);

    /// <summary>The binary form, as found after the 0x00 prefix of a tag-42 link or at the start of a CAR section.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>Reads a binary CID at the start of <paramref name="data"/>; trailing bytes are the caller's.</summary>
    public static Cid ReadPrefix(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 2 && data[0] == Sha256Code && data[1] == Sha256Length)
        {
            throw new AtprotoFormatException("CIDv0 is not allowed in atproto data (only CIDv1)");
        }

        if (data.Length < BinaryLength)
        {
            throw new AtprotoFormatException($"CID needs {BinaryLength} bytes, got {data.Length}");
        }

        if (data[0] != Version1)
        {
            throw new AtprotoFormatException($"unsupported CID version byte 0x{data[0]:x2} (only CIDv1)");
        }

        if (data[1] != DagCborCodec && data[1] != RawCodec)
        {
            throw new AtprotoFormatException($"unsupported CID codec 0x{data[1]:x2} (only dag-cbor 0x71 or raw 0x55)");
        }

        if (data[2] != Sha256Code || data[3] != Sha256Length)
        {
            throw new AtprotoFormatException($"unsupported CID multihash 0x{data[2]:x2}/{data[3]} (only sha2-256, 32 bytes)");
        }

        return new Cid(data[..BinaryLength].ToArray());
    }

    /// <summary>Reads a binary CID that must span all of <paramref name="data"/>.</summary>
    public static Cid FromBytes(ReadOnlySpan<byte> data)
    {
        var cid = ReadPrefix(data);
        if (data.Length != BinaryLength)
        {
            throw new AtprotoFormatException($"CID has {data.Length - BinaryLength} trailing bytes");
        }

        return cid;
    }

    /// <summary>Parses the text form: "b" + lower-case base32 without padding.</summary>
    public static Cid Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.StartsWith("Qm", StringComparison.Ordinal))
        {
            throw new AtprotoFormatException("CIDv0 is not allowed in atproto data (only CIDv1)");
        }

        if (text.Length == 0 || text[0] != 'b')
        {
            throw new AtprotoFormatException("CID text must start with multibase prefix 'b' (base32 lower-case)");
        }

        Span<byte> bytes = stackalloc byte[BinaryLength];
        if (!Base32.TryDecode(text.AsSpan(1), bytes, out var written) || written != BinaryLength)
        {
            throw new AtprotoFormatException($"CID text '{Truncate(text)}' is not base32 of a {BinaryLength}-byte CID");
        }

        return FromBytes(bytes);
    }

    public static bool TryParse(string? text, out Cid? cid)
    {
        cid = null;
        if (text is null)
        {
            return false;
        }

        try
        {
            cid = Parse(text);
            return true;
        }
        catch (AtprotoFormatException)
        {
            return false;
        }
    }

    /// <summary>The CID of <paramref name="block"/> under <paramref name="codec"/> (0x71 or 0x55).</summary>
    public static Cid Compute(byte codec, ReadOnlySpan<byte> block)
    {
        if (codec != DagCborCodec && codec != RawCodec)
        {
            throw new ArgumentOutOfRangeException(nameof(codec), codec, "only dag-cbor 0x71 or raw 0x55");
        }

        var bytes = new byte[BinaryLength];
        bytes[0] = Version1;
        bytes[1] = codec;
        bytes[2] = Sha256Code;
        bytes[3] = Sha256Length;
        SHA256.HashData(block, bytes.AsSpan(DigestOffset));
        return new Cid(bytes);
    }

    /// <summary>True when the sha-256 of <paramref name="block"/> equals this CID's digest.</summary>
    public bool Verify(ReadOnlySpan<byte> block)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(block, digest);
        return digest.SequenceEqual(Digest);
    }

    public bool Equals(Cid? other) => other is not null && _bytes.AsSpan().SequenceEqual(other._bytes);

    public override bool Equals(object? obj) => Equals(obj as Cid);

    // The digest is a sha-256, so any 4 of its bytes are already uniformly spread.
    public override int GetHashCode() => BinaryPrimitives.ReadInt32LittleEndian(_bytes.AsSpan(DigestOffset)) ^ _bytes[1];

    public override string ToString() => "b" + Base32.Encode(_bytes);

    public static bool operator ==(Cid? left, Cid? right) => left is null ? right is null : left.Equals(right);

    public static bool operator !=(Cid? left, Cid? right) => !(left == right);

    private static string Truncate(string text) => text.Length <= 80 ? text : text[..80] + "…";
}
