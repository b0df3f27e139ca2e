using PostService.Atproto;

namespace PostService.Tests.Atproto;

public sealed class RepoReaderTests
{
    [Fact]
    public void ReadsAlicesCommit()
    {
        var repo = RepoReader.Open(TestFiles.Read("alice-repo.car"));

        Assert.Equal("bafyreiejyprdfuocajvjyjrowqt6ehws4zjpatld7bpfjauvglwkwntrem", repo.CommitCid.ToString());
        Assert.Equal(TestFiles.AliceDid, repo.Commit.Did);
        Assert.Equal(3, repo.Commit.Version);
        Assert.Equal("3n3jg7agcfc2h", repo.Commit.Rev);
        Assert.Equal("bafyreidnwcgzny67q32iqrjkxlx3obkw6rj4duupptffvryxrrxgibelum", repo.Commit.Data.ToString());
        Assert.Null(repo.Commit.Prev);
        Assert.Equal(64, repo.Commit.Signature.Length);
    }

    [Fact]
    public void AlicesRecordsMatchWhatListRecordsReturned()
    {
        var records = RepoReader.Open(TestFiles.Read("alice-repo.car")).ReadRecords().ToList();

        var counts = records.GroupBy(r => r.Collection).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(
            new Dictionary<string, int>
            {
                ["app.bsky.actor.profile"] = 1,
                ["app.bsky.feed.like"] = 1,
                ["app.bsky.feed.post"] = 6,
                ["app.bsky.feed.repost"] = 1,
                ["app.bsky.graph.follow"] = 1,
            },
            counts);
        Assert.Equal(
            ["self", "3n3jg7a64oc2h", "3n3jg2ghi6s2h", "3n3jg2ghvuc2h", "3n3jg77cgwk2h", "3n3jg77ud722h", "3n3jg77wrd22h", "3n3jg7a3okc2h", "3n3jg7aahuk2h", "3n3jg7ag6ic2h"],
            records.Select(r => r.RecordKey));
        Assert.All(records, r => Assert.Equal(r.Collection, r.Value["$type"]!.GetValue<string>()));
    }

    [Fact]
    public void AlicesPostsCarryTheirLangsRepliesAndQuotes()
    {
        var posts = RepoReader.Open(TestFiles.Read("alice-repo.car")).ReadRecords()
            .Where(r => r.Collection == "app.bsky.feed.post")
            .ToDictionary(r => r.RecordKey);

        Assert.Equal("Bonjour, deuxième message", posts["3n3jg77ud722h"].Value["text"]!.GetValue<string>());
        Assert.Equal("""["fr","en"]""", posts["3n3jg77ud722h"].Value["langs"]!.ToJsonString());
        Assert.Equal(
            $"at://{TestFiles.BobDid}/app.bsky.feed.post/3n3jg2gho2c2h",
            posts["3n3jg77wrd22h"].Value["reply"]!["parent"]!["uri"]!.GetValue<string>());
        var quote = posts["3n3jg7a3okc2h"].Value["embed"]!;
        Assert.Equal("app.bsky.embed.record", quote["$type"]!.GetValue<string>());
        Assert.Equal(posts["3n3jg77cgwk2h"].Cid.ToString(), quote["record"]!["cid"]!.GetValue<string>());
    }

    [Fact]
    public async Task ReadsTheBulkRepoFromAFileInKeyOrder()
    {
        using var stream = File.OpenRead(TestFiles.PathOf("atbulk-repo.car"));

        var repo = await RepoReader.OpenAsync(stream, null, CancellationToken.None);
        var entries = repo.ReadEntries().ToList();
        var records = repo.ReadRecords().ToList();

        Assert.Equal(TestFiles.AtbulkDid, repo.Commit.Did);
        Assert.Equal("3n3jg7md6ul2h", repo.Commit.Rev);
        Assert.Equal(301, entries.Count);
        Assert.Equal(entries.Select(e => e.Path.ToString()).Order(StringComparer.Ordinal), entries.Select(e => e.Path.ToString()));
        Assert.Equal(300, records.Count(r => r.Collection == "app.bsky.feed.post"));
        Assert.Equal(1, records.Count(r => r.Collection == "app.bsky.actor.profile"));
        Assert.All(records.Where(r => r.Collection == "app.bsky.feed.post"), r => Assert.StartsWith("bulk", r.Value["text"]!.GetValue<string>(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheSameRepoReadsAlikeFromMemoryAndFile()
    {
        var fromMemory = RepoReader.Open(TestFiles.Read("atbulk-repo.car")).ReadEntries().ToList();
        using var stream = File.OpenRead(TestFiles.PathOf("atbulk-repo.car"));
        var fromFile = (await RepoReader.OpenAsync(stream, null, CancellationToken.None)).ReadEntries().ToList();

        Assert.Equal(fromMemory, fromFile);
    }

    [Fact]
    public void AMissingTreeNodeIsAnError()
    {
        var car = TestFiles.Read("alice-repo.car");
        var repo = RepoReader.Open(car);
        var blocks = CarReader.ReadAll(car);

        var withoutRoot = new BlockSourceWithout(blocks, repo.Commit.Data);

        var error = Assert.Throws<AtprotoFormatException>(() => MstWalker.Walk(repo.Commit.Data, withoutRoot).ToList());
        Assert.Contains("missing", error.Message, StringComparison.Ordinal);
        Assert.Empty(MstWalker.Walk(repo.Commit.Data, withoutRoot, tolerateMissingBlocks: true));
    }

    [Fact]
    public void AFirehoseCarSliceWalksWithMissingSubtreesTolerated()
    {
        var commit = (FirehoseCommit)new FirehoseFrameReader().Read(TestFiles.Read("frame-commit-alice-follow.bin"));
        var slice = CarReader.ReadAll(commit.Blocks);
        Assert.True(slice.TryGetBlock(commit.Commit, out var commitBlock));
        var root = RepoCommit.Decode(commitBlock).Data;

        var entries = MstWalker.Walk(root, slice, tolerateMissingBlocks: true).ToList();

        Assert.Contains(entries, e => e.Path.ToString() == "app.bsky.graph.follow/3n3jg7ag6ic2h" && e.Cid == commit.Ops[0].Cid);
    }

    [Fact]
    public void ACycleInTheTreeIsAnError()
    {
        // A node whose subtree is itself cannot be built by hashing, so the block source hands out the same block for any CID.
        var self = Cid.Compute(Cid.DagCborCodec, [0xa0]);
        var cyclic = Cbor.Write(w =>
        {
            w.WriteStartMap(1);
            w.WriteTextString("e");
            w.WriteStartArray(1);
            w.WriteStartMap(4);
            w.WriteTextString("k");
            w.WriteByteString("com.example.test/self"u8.ToArray());
            w.WriteTextString("p");
            w.WriteInt32(0);
            w.WriteTextString("t");
            w.WriteLink(self);
            w.WriteTextString("v");
            w.WriteLink(self);
            w.WriteEndMap();
            w.WriteEndArray();
            w.WriteEndMap();
        });

        var error = Assert.Throws<AtprotoFormatException>(() => MstWalker.Walk(self, new FixedBlock(cyclic)).ToList());

        Assert.Contains("reached twice", error.Message, StringComparison.Ordinal);
    }

    private sealed class BlockSourceWithout(IBlockSource inner, Cid missing) : IBlockSource
    {
        public bool TryGetBlock(Cid cid, out ReadOnlyMemory<byte> block)
        {
            block = default;
            return cid != missing && inner.TryGetBlock(cid, out block);
        }
    }

    private sealed class FixedBlock(byte[] block) : IBlockSource
    {
        public bool TryGetBlock(Cid cid, out ReadOnlyMemory<byte> found)
        {
            found = block;
            return true;
        }
    }
}
