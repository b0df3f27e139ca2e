using System.Text.Json.Nodes;
using PostService.Atproto;

namespace PostService.Tests.Atproto;

public sealed class DagCborReaderTests
{
    [Theory]
    [InlineData("00", "0")]
    [InlineData("17", "23")]
    [InlineData("1818", "24")]
    [InlineData("20", "-1")]
    [InlineData("1b7fffffffffffffff", "9223372036854775807")]
    [InlineData("3b7fffffffffffffff", "-9223372036854775808")]
    [InlineData("f5", "true")]
    [InlineData("f4", "false")]
    [InlineData("f6", "null")]
    [InlineData("63616263", "\"abc\"")]
    [InlineData("62c3a9", "\"\\u00E9\"")]
    [InlineData("80", "[]")]
    [InlineData("8301820203a0", "[1,[2,3],{}]")]
    public void DecodesScalarsAndContainers(string hex, string json)
    {
        var value = DagCborReader.ReadJson(Cbor.Hex(hex));

        Assert.Equal(json, value?.ToJsonString() ?? "null");
    }

    [Fact]
    public void MapKeysComeOutInTheirCanonicalOrder()
    {
        // {"a": 1, "bb": 2}: shorter keys sort first in DAG-CBOR.
        var value = DagCborReader.ReadJson(Cbor.Hex("a2 6161 01 626262 02"));

        Assert.Equal("""{"a":1,"bb":2}""", value!.ToJsonString());
    }

    [Theory]
    [InlineData("40", "")]
    [InlineData("4101", "AQ")]
    [InlineData("420102", "AQI")]
    [InlineData("43010203", "AQID")]
    public void BytesBecomeUnpaddedBase64(string hex, string base64)
    {
        var value = DagCborReader.ReadJson(Cbor.Hex(hex));

        Assert.Equal(base64, value!["$bytes"]!.GetValue<string>());
    }

    [Fact]
    public void LinksBecomeDollarLinkWithTheCidText()
    {
        var cid = Cid.Compute(Cid.DagCborCodec, [0xa0]);
        var block = Cbor.Write(w =>
        {
            w.WriteStartMap(1);
            w.WriteTextString("ref");
            w.WriteLink(cid);
            w.WriteEndMap();
        });

        var value = DagCborReader.ReadJson(block);

        Assert.Equal(cid.ToString(), value!["ref"]!["$link"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("f97e00", "floats")]
    [InlineData("fa3fc00000", "floats")]
    [InlineData("fb3ff8000000000000", "floats")]
    [InlineData("c11a514b67b0", "tag 1")]
    [InlineData("d82a4101", "0x00")]
    [InlineData("d82a43001220", "CIDv0")]
    [InlineData("f7", "DAG-CBOR")]
    [InlineData("e0", "DAG-CBOR")]
    [InlineData("a10102", "not a string")]
    [InlineData("a1410102", "not a string")]
    [InlineData("1b8000000000000000", "64-bit")]
    [InlineData("3b8000000000000000", "64-bit")]
    [InlineData("9fff", "DAG-CBOR")]
    [InlineData("5f4101ff", "DAG-CBOR")]
    [InlineData("1801", "DAG-CBOR")]
    [InlineData("190001", "DAG-CBOR")]
    [InlineData("a2 626262 02 6161 01", "DAG-CBOR")]
    [InlineData("a2 6161 01 6161 02", "DAG-CBOR")]
    [InlineData("62c328", "DAG-CBOR")]
    [InlineData("0000", "bytes after the value")]
    [InlineData("", "DAG-CBOR")]
    [InlineData("83 01 02", "DAG-CBOR")]
    [InlineData("5a ffffffff 00", "DAG-CBOR")]
    [InlineData("9b 7fffffffffffffff", "DAG-CBOR")]
    public void RejectsWhatDagCborForbidsOrMalformedInput(string hex, string reason)
    {
        var error = Assert.Throws<AtprotoFormatException>(() => DagCborReader.ReadJson(Cbor.Hex(hex)));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LimitsNesting()
    {
        var nested = Enumerable.Repeat((byte)0x81, 100).Append((byte)0x00).ToArray();

        var error = Assert.Throws<AtprotoFormatException>(() => DagCborReader.ReadJson(nested));

        Assert.Contains("nesting deeper than 32", error.Message, StringComparison.Ordinal);
        Assert.NotNull(DagCborReader.ReadJson(nested, maxDepth: 100));
    }

    [Fact]
    public void LimitsBlockSize()
    {
        var error = Assert.Throws<AtprotoFormatException>(() => DagCborReader.ReadJson(new byte[11], maxBlockBytes: 10));

        Assert.Contains("exceeds the 10-byte limit", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DecodesARealPostRecord()
    {
        var blocks = CarReader.ReadAll(TestFiles.Read("alice-repo.car"));
        Assert.True(blocks.TryGetBlock(Cid.Parse("bafyreigwu5ofeumkbixkgxqvjppmrrb66eqnzu7jqilcqwn6g7kwnnopdq"), out var block));

        var post = DagCborReader.ReadJson(block)!.AsObject();

        Assert.Equal("app.bsky.feed.post", post["$type"]!.GetValue<string>());
        Assert.Equal("Reader test: hello from alice #atproto #dotnet", post["text"]!.GetValue<string>());
        Assert.Equal("""["en"]""", post["langs"]!.ToJsonString());
        Assert.Equal(["atproto", "dotnet"], post["facets"]!.AsArray().Select(f => f!["features"]![0]!["tag"]!.GetValue<string>()));
        Assert.Equal(30, post["facets"]![0]!["index"]!["byteStart"]!.GetValue<long>());
        Assert.Equal("2026-11-30T09:30:00.000Z", post["createdAt"]!.GetValue<string>());
        Assert.IsType<JsonObject>(post);
    }
}
