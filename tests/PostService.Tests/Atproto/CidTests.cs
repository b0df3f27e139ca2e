using System.Text;
using PostService.Atproto;

namespace PostService.Tests.Atproto;

public sealed class CidTests
{
    // Widely published vectors: sha-256 of the empty input as raw, and of the empty map (0xa0) as dag-cbor.
    private const string EmptyRaw = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
    private const string EmptyMapDagCbor = "bafyreigbtj4x7ip5legnfznufuopl4sg4knzc2cof6duas4b3q2fy6swua";

    [Fact]
    public void ComputesKnownVectors()
    {
        Assert.Equal(EmptyRaw, Cid.Compute(Cid.RawCodec, []).ToString());
        Assert.Equal(EmptyMapDagCbor, Cid.Compute(Cid.DagCborCodec, [0xa0]).ToString());
    }

    [Fact]
    public void ParsesTextIntoTheBinaryForm()
    {
        var cid = Cid.Parse(EmptyRaw);

        Assert.Equal(Cid.RawCodec, cid.Codec);
        Assert.Equal(Cid.BinaryLength, cid.Bytes.Length);
        Assert.Equal("01551220e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Convert.ToHexStringLower(cid.Bytes));
        Assert.Equal(EmptyRaw, cid.ToString());
        Assert.True(cid.Verify([]));
        Assert.False(cid.Verify([0]));
    }

    [Fact]
    public void RoundTripsBinaryAndText()
    {
        var cid = Cid.Compute(Cid.DagCborCodec, Encoding.UTF8.GetBytes("round trip"));

        var fromBytes = Cid.FromBytes(cid.Bytes);
        var fromText = Cid.Parse(cid.ToString());

        Assert.Equal(cid, fromBytes);
        Assert.Equal(cid, fromText);
        Assert.True(cid == fromText);
        Assert.Equal(cid.GetHashCode(), fromText.GetHashCode());
        Assert.NotEqual(cid, Cid.Compute(Cid.RawCodec, Encoding.UTF8.GetBytes("round trip")));
    }

    [Fact]
    public void ARealRecordBlockHashesToTheCidThePdsReturned()
    {
        // The PDS answered the control API's create with this CID for alice's first test post.
        var expected = Cid.Parse("bafyreigwu5ofeumkbixkgxqvjppmrrb66eqnzu7jqilcqwn6g7kwnnopdq");
        var blocks = CarReader.ReadAll(TestFiles.Read("alice-repo.car"));

        Assert.True(blocks.TryGetBlock(expected, out var block));
        Assert.Equal(expected, Cid.Compute(Cid.DagCborCodec, block.Span));
    }

    [Theory]
    [InlineData("QmY7Yh4UquoXHLPFo2XbhXkhBvFoPwmQUSa92pxnxjQuPU", "CIDv0")]
    [InlineData("zb2rhe5P4gXftAwvA4eXQ5HJwsER2owDyS9sKaQRRVQPn93bA", "multibase prefix")]
    [InlineData("BAFKREIHDWDCEFGH4DQKJV67UZCMW7OJEE6XEDZDETOJUZJEVTENXQUVYKU", "multibase prefix")]
    [InlineData("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyk", "base32")]
    [InlineData("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvykuaa", "base32")]
    [InlineData("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyk1", "base32")]
    [InlineData("", "multibase prefix")]
    public void RejectsBadText(string text, string reason)
    {
        var error = Assert.Throws<AtprotoFormatException>(() => Cid.Parse(text));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.False(Cid.TryParse(text, out _));
    }

    [Theory]
    [InlineData("1220", "CIDv0")]
    [InlineData("0271", "version")]
    [InlineData("0170", "codec")]
    [InlineData("0171", "needs 36 bytes")]
    [InlineData("01711320", "multihash")]
    [InlineData("01711240", "multihash")]
    public void RejectsBadBinary(string prefixHex, string reason)
    {
        var bytes = new byte[Cid.BinaryLength];
        var prefix = Convert.FromHexString(prefixHex);
        prefix.CopyTo(bytes, 0);
        var input = prefixHex == "0171" ? prefix : bytes;

        var error = Assert.Throws<AtprotoFormatException>(() => Cid.FromBytes(input));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromBytesRejectsTrailingBytesButReadPrefixLeavesThem()
    {
        var cid = Cid.Compute(Cid.RawCodec, [1, 2, 3]);
        byte[] withTail = [.. cid.Bytes, 0xff];

        Assert.Throws<AtprotoFormatException>(() => Cid.FromBytes(withTail));
        Assert.Equal(cid, Cid.ReadPrefix(withTail));
    }
}
