using PostService.Atproto;

namespace PostService.Tests.Atproto;

public sealed class CarReaderTests
{
    private static readonly byte[] BlockA = [0xa1, 0x61, 0x61, 0x01];
    private static readonly byte[] BlockB = [0x82, 0x01, 0x02];

    [Fact]
    public void ReadsHeaderAndSectionsInOrder()
    {
        var root = Cid.Compute(Cid.DagCborCodec, BlockA);
        var car = Cbor.Car(root, BlockA, BlockB);

        var reader = new CarReader(car);
        var blocks = new List<CarBlock>();
        while (reader.TryReadBlock(out var block))
        {
            blocks.Add(block);
        }

        Assert.Equal([root], reader.Header.Roots);
        Assert.Equal(2, blocks.Count);
        Assert.Equal(root, blocks[0].Cid);
        Assert.Equal(BlockA, blocks[0].Data.ToArray());
        Assert.Equal(BlockB, car.AsSpan((int)blocks[1].Offset, BlockB.Length).ToArray());
    }

    [Fact]
    public async Task StreamingGivesTheSameBlocksAsMemory()
    {
        var car = TestFiles.Read("atbulk-repo.car");
        var inMemory = new List<CarBlock>();
        var memoryReader = new CarReader(car);
        while (memoryReader.TryReadBlock(out var block))
        {
            inMemory.Add(block);
        }

        // A tiny-chunk stream makes every varint and section straddle reads.
        using var stream = new TrickleStream(car, chunk: 7);
        var streamReader = await CarStreamReader.OpenAsync(stream, null, CancellationToken.None);
        var streamed = new List<CarBlock>();
        while (await streamReader.ReadBlockAsync(CancellationToken.None) is { } block)
        {
            streamed.Add(block);
        }

        Assert.Equal(389, streamed.Count);
        Assert.Equal(memoryReader.Header.Roots, streamReader.Header.Roots);
        Assert.Equal(inMemory.Select(b => (b.Cid, b.Offset)), streamed.Select(b => (b.Cid, b.Offset)));
        Assert.All(streamed, b => Assert.True(b.Data.Span.SequenceEqual(car.AsSpan((int)b.Offset, b.Data.Length))));
        Assert.Equal(car.Length, streamReader.Position);
    }

    [Fact]
    public void RejectsABlockThatDoesNotMatchItsCid()
    {
        var car = Cbor.Car(null, BlockA);
        car[^1] ^= 0x01;

        var error = Assert.Throws<AtprotoFormatException>(() => CarReader.ReadAll(car));

        Assert.Contains("does not hash to its CID", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RejectsTruncation()
    {
        var car = Cbor.Car(null, BlockA);
        var headerOnly = Cbor.Car(null).Length;

        Assert.Equal(0, CarReader.ReadAll(car[..headerOnly]).Count);
        for (var length = 0; length < car.Length; length++)
        {
            if (length == headerOnly)
            {
                continue;
            }

            var truncated = car[..length];
            var error = Assert.Throws<AtprotoFormatException>(() => CarReader.ReadAll(truncated));
            Assert.Contains("CAR", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task StreamRejectsTruncationInsideASection()
    {
        var car = Cbor.Car(null, BlockA);
        using var stream = new MemoryStream(car[..^2]);
        var reader = await CarStreamReader.OpenAsync(stream, null, CancellationToken.None);

        var error = await Assert.ThrowsAsync<AtprotoFormatException>(() => reader.ReadBlockAsync(CancellationToken.None).AsTask());

        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StreamRejectsAnEmptyStream()
    {
        using var stream = new MemoryStream();

        var error = await Assert.ThrowsAsync<AtprotoFormatException>(() => CarStreamReader.OpenAsync(stream, null, CancellationToken.None));

        Assert.Contains("empty", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KeepsTheFirstCopyOfARepeatedBlock()
    {
        var car = Cbor.Car(null, BlockA, BlockB, BlockA);

        var blocks = CarReader.ReadAll(car);

        Assert.Equal(2, blocks.Count);
    }

    [Theory]
    [InlineData(new byte[] { 0x00 }, "length 0 outside")]
    [InlineData(new byte[] { 0xff, 0xff, 0xff, 0xff, 0x0f }, "outside 1..")]
    [InlineData(new byte[] { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 }, "longer than 9 bytes")]
    [InlineData(new byte[] { 0x85, 0x00 }, "not minimally encoded")]
    [InlineData(new byte[] { 0x80 }, "truncated")]
    [InlineData(new byte[] { 0x24, 0x01 }, "truncated")]
    public void RejectsBadSectionLengths(byte[] tail, string reason)
    {
        byte[] car = [.. Cbor.Car(null), .. tail];

        var error = Assert.Throws<AtprotoFormatException>(() => CarReader.ReadAll(car));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HonoursTheSectionSizeLimit()
    {
        var car = Cbor.Car(null, new byte[100]);

        var error = Assert.Throws<AtprotoFormatException>(() => CarReader.ReadAll(car, new CarReaderOptions { MaxSectionBytes = 64 }));

        Assert.Contains("outside 1..64", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RejectsAHeaderOfAnotherVersionOrShape()
    {
        var version2 = Cbor.Write(w =>
        {
            w.WriteStartMap(2);
            w.WriteTextString("roots");
            w.WriteStartArray(0);
            w.WriteEndArray();
            w.WriteTextString("version");
            w.WriteInt32(2);
            w.WriteEndMap();
        });
        var notAMap = Cbor.Hex("80");

        foreach (var header in new[] { version2, notAMap })
        {
            byte[] car = [(byte)header.Length, .. header];
            var error = Assert.Throws<AtprotoFormatException>(() => new CarReader(car));
            Assert.Contains("CAR header", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task FileIndexServesVerifiedBlocksFromASeekableStream()
    {
        using var stream = File.OpenRead(TestFiles.PathOf("alice-repo.car"));

        var index = await CarFileIndex.BuildAsync(stream, null, CancellationToken.None);
        var commit = index.Header.Roots[0];

        Assert.Equal(14, index.Count);
        Assert.True(index.TryGetBlock(commit, out var block));
        Assert.Equal(TestFiles.AliceDid, RepoCommit.Decode(block).Did);
        Assert.False(index.TryGetBlock(Cid.Compute(Cid.RawCodec, []), out _));
    }

    /// <summary>Returns at most <c>chunk</c> bytes per read, like a slow network stream.</summary>
    private sealed class TrickleStream(byte[] data, int chunk) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, chunk));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, chunk)], cancellationToken);
    }
}
