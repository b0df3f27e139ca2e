using PostService.Atproto;

namespace PostService.Tests.Atproto;

public sealed class FirehoseFrameReaderTests
{
    private readonly FirehoseFrameReader _reader = new();

    [Fact]
    public void ReadsAliceCreatingAPost()
    {
        var commit = Assert.IsType<FirehoseCommit>(_reader.Read(TestFiles.Read("frame-commit-alice-post.bin")));

        Assert.Equal(30, commit.Seq);
        Assert.Equal(TestFiles.AliceDid, commit.Repo);
        Assert.Equal("bafyreifhmz54qfwvp7euxpluvyujfqvxk6bbudyqscugujqbcd2ywem5yy", commit.Commit.ToString());
        Assert.Equal("3n3jg77cktk2h", commit.Rev);
        Assert.Equal("3n3jg2gi3ps2h", commit.Since);
        Assert.False(commit.TooBig);
        Assert.False(commit.Rebase);
        Assert.Empty(commit.Blobs);
        Assert.Equal("bafyreie6cxqey2kepfismgitxhlu3blajcap2ey2qlv7fgq5hlan4t523q", commit.PrevData?.ToString());
        Assert.Equal("2026-11-30T09:29:02.433Z", commit.Time);
        var op = Assert.Single(commit.Ops);
        Assert.Equal(new FirehoseRepoOp("create", "app.bsky.feed.post/3n3jg77cgwk2h", Cid.Parse("bafyreigwu5ofeumkbixkgxqvjppmrrb66eqnzu7jqilcqwn6g7kwnnopdq"), null), op);
    }

    [Fact]
    public void TheCommitsCarHoldsTheCommitAndTheNewRecord()
    {
        var commit = (FirehoseCommit)_reader.Read(TestFiles.Read("frame-commit-alice-reply.bin"));

        var blocks = CarReader.ReadAll(commit.Blocks);

        Assert.Equal([commit.Commit], blocks.Header.Roots);
        Assert.Equal(4, blocks.Count);
        Assert.True(blocks.TryGetBlock(commit.Commit, out var commitBlock));
        Assert.Equal(commit.Rev, RepoCommit.Decode(commitBlock).Rev);
        Assert.True(blocks.TryGetBlock(commit.Ops[0].Cid!, out var record));
        Assert.Equal("Replying to bob", DagCborReader.ReadJson(record)!["text"]!.GetValue<string>());
    }

    [Fact]
    public void ADeleteOpHasNoCidButItsPrev()
    {
        var commit = (FirehoseCommit)_reader.Read(TestFiles.Read("frame-commit-bob-delete.bin"));

        Assert.Equal(29, commit.Seq);
        Assert.Equal(TestFiles.BobDid, commit.Repo);
        Assert.Equal(
            new FirehoseRepoOp("delete", "app.bsky.feed.post/3n3jg2gijfc2h", null, Cid.Parse("bafyreibglyrjt4kwa4amve4fijspm4y7joxpkbcwbrhb5xvmwww4flx4iu")),
            Assert.Single(commit.Ops));
    }

    [Fact]
    public void ReadsIdentityAccountAndSyncEvents()
    {
        Assert.Equal(
            new FirehoseIdentity(37, TestFiles.AtreaderDid, "2026-11-30T09:29:06.711Z", "atreader.test"),
            _reader.Read(TestFiles.Read("frame-identity-atreader-created.bin")));
        Assert.Equal(
            new FirehoseIdentity(42, TestFiles.AtreaderDid, "2026-11-30T09:29:07.683Z", "atreader2.test"),
            _reader.Read(TestFiles.Read("frame-identity-atreader-handle.bin")));
        Assert.Equal(
            new FirehoseAccount(38, TestFiles.AtreaderDid, "2026-11-30T09:29:06.711Z", true, null),
            _reader.Read(TestFiles.Read("frame-account-atreader-active.bin")));
        Assert.Equal(
            new FirehoseAccount(43, TestFiles.AtreaderDid, "2026-11-30T09:29:07.753Z", false, "deactivated"),
            _reader.Read(TestFiles.Read("frame-account-atreader-deactivated.bin")));

        var sync = Assert.IsType<FirehoseSync>(_reader.Read(TestFiles.Read("frame-sync-atreader.bin")));
        Assert.Equal((40L, TestFiles.AtreaderDid, "3n3jg7ddslc2h"), (sync.Seq, sync.Did, sync.Rev));
        var blocks = CarReader.ReadAll(sync.Blocks);
        Assert.True(blocks.TryGetBlock(blocks.Header.Roots[0], out var commitBlock));
        Assert.Equal(sync.Rev, RepoCommit.Decode(commitBlock).Rev);
    }

    [Fact]
    public void ReadsInfoErrorAndUnknownOpsOrTypes()
    {
        Assert.Equal(new FirehoseInfo("OutdatedCursor", "too old"), _reader.Read(Frame(1, "#info", ("name", "OutdatedCursor"), ("message", "too old"))));
        Assert.Equal(new FirehoseError("FutureCursor", "ahead"), _reader.Read(Frame(-1, null, ("error", "FutureCursor"), ("message", "ahead"))));
        Assert.Equal(new FirehoseUnknown(1, "#labels"), _reader.Read(Frame(1, "#labels", ("anything", "x"))));
        Assert.Equal(new FirehoseUnknown(2, "#info"), _reader.Read(Frame(2, "#info", ("name", "x"))));
    }

    [Fact]
    public void RejectsBadHeadersAndTrailingBytes()
    {
        byte[] arrayBody = [.. Frame(1, "#labels")[..^1], 0x80]; // the empty body map 0xa0 swapped for an empty array
        Assert.Contains("expected a map", Assert.Throws<AtprotoFormatException>(() => _reader.Read(arrayBody)).Message, StringComparison.Ordinal);
        Assert.Contains("without t", Assert.Throws<AtprotoFormatException>(() => _reader.Read(Frame(1, null, ("name", "x")))).Message, StringComparison.Ordinal);
        Assert.Contains("'name' is missing", Assert.Throws<AtprotoFormatException>(() => _reader.Read(Frame(1, "#info", ("message", "x")))).Message, StringComparison.Ordinal);
        byte[] trailing = [.. Frame(1, "#info", ("name", "x")), 0x00];
        Assert.Contains("bytes after the value", Assert.Throws<AtprotoFormatException>(() => _reader.Read(trailing)).Message, StringComparison.Ordinal);
        Assert.Throws<AtprotoFormatException>(() => _reader.Read(Cbor.Hex("a2 6174 6523696e666f 626f70 01")));
    }

    [Fact]
    public void RejectsFramesOverTheSizeCap()
    {
        var frame = TestFiles.Read("frame-commit-alice-post.bin");

        var error = Assert.Throws<AtprotoFormatException>(() => new FirehoseFrameReader(maxFrameBytes: 1000).Read(frame));

        Assert.Contains("exceeds the 1000-byte limit", error.Message, StringComparison.Ordinal);
    }

    private static byte[] Frame(int op, string? type, params (string Key, string Value)[] body) => Cbor.Write(w =>
    {
        // Keys in DAG-CBOR order: shorter first.
        w.WriteStartMap(type is null ? 1 : 2);
        if (type is not null)
        {
            w.WriteTextString("t");
            w.WriteTextString(type);
        }

        w.WriteTextString("op");
        w.WriteInt32(op);
        w.WriteEndMap();
        w.WriteStartMap(body.Length);
        foreach (var (key, value) in body.OrderBy(p => p.Key.Length).ThenBy(p => p.Key, StringComparer.Ordinal))
        {
            w.WriteTextString(key);
            w.WriteTextString(value);
        }

        w.WriteEndMap();
    });
}
