using System.Text;
using PostService.Atproto;

namespace PostService.Tests.Atproto;

public sealed class MstWalkerTests
{
    private static readonly Cid Record = Cid.Compute(Cid.DagCborCodec, [0xa0]);

    [Theory]
    [InlineData("2653ae71", 0)]
    [InlineData("blue", 1)]
    [InlineData("app.bsky.feed.post/454397e440ec", 4)]
    [InlineData("app.bsky.feed.post/9adeb165882c", 8)]
    public void KeyDepthMatchesTheSpecExamples(string key, int depth)
    {
        Assert.Equal(depth, MstKeyDepth.Of(Encoding.ASCII.GetBytes(key)));
    }

    [Fact]
    public void WalksLeftSubtreeThenEntryThenRightSubtree()
    {
        var (low, high) = KeysAroundALayer1Key(out var middle);
        var blocks = new Blocks();
        var left = blocks.Add(Node(null, (low, null), includeEmptyLinks: false));
        var right = blocks.Add(Node(null, (high, null), includeEmptyLinks: true));
        var root = blocks.Add(Node(left, (middle, right), includeEmptyLinks: true));

        var keys = MstWalker.Walk(root, blocks).Select(e => e.Path.ToString()).ToList();

        Assert.Equal([low, middle, high], keys);
    }

    [Fact]
    public void RejectsAKeyOnTheWrongLayer()
    {
        var (low, _) = KeysAroundALayer1Key(out var middle);
        var blocks = new Blocks();
        var wrongLayer = blocks.Add(Node(null, (middle, null), includeEmptyLinks: true));
        var root = blocks.Add(Node(wrongLayer, (Layer1Key(after: middle), null), includeEmptyLinks: true));

        var error = Assert.Throws<AtprotoFormatException>(() => MstWalker.Walk(root, blocks).ToList());

        Assert.Contains("layer", error.Message, StringComparison.Ordinal);
        Assert.NotEqual(low, middle);
    }

    [Fact]
    public void RejectsAnEmptyRootOverASubtree()
    {
        var (low, _) = KeysAroundALayer1Key(out _);
        var blocks = new Blocks();
        var leaf = blocks.Add(Node(null, (low, null), includeEmptyLinks: true));
        var root = blocks.Add(Node(leaf));

        var error = Assert.Throws<AtprotoFormatException>(() => MstWalker.Walk(root, blocks).ToList());

        Assert.Contains("empty node over a subtree", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEmptyRootIsAnEmptyRepository()
    {
        var blocks = new Blocks();
        var root = blocks.Add(Node(null));

        Assert.Empty(MstWalker.Walk(root, blocks));
    }

    [Fact]
    public void RejectsKeysThatAreNotCollectionSlashRkey()
    {
        var key = FindKey(0, i => $"nocollection{i}");
        var blocks = new Blocks();
        var root = blocks.Add(Node(null, (key, null), includeEmptyLinks: true));

        var error = Assert.Throws<AtprotoFormatException>(() => MstWalker.Walk(root, blocks).ToList());

        Assert.Contains("not collection/rkey", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RejectsAPrefixLengthShorterThanTheSharedPrefix()
    {
        var node = Node(null, [("com.example.test/a", null), ("com.example.test/b", null)], includeEmptyLinks: true);

        var error = Assert.Throws<AtprotoFormatException>(() => MstNode.Decode(node));

        Assert.Contains("shares more than its prefix length 0", error.Message, StringComparison.Ordinal);
    }

    private static (string Low, string High) KeysAroundALayer1Key(out string middle)
    {
        middle = Layer1Key(after: "com.example.test/");
        var m = middle;
        var low = FindKey(0, i => $"com.example.test/a{i:D4}", k => string.CompareOrdinal(k, m) < 0);
        var high = FindKey(0, i => $"com.example.test/z{i:D4}", k => string.CompareOrdinal(k, m) > 0);
        return (low, high);
    }

    private static string Layer1Key(string after) =>
        FindKey(1, i => $"com.example.test/m{i:D4}", k => string.CompareOrdinal(k, after) > 0);

    private static string FindKey(int depth, Func<int, string> candidate, Func<string, bool>? accept = null)
    {
        for (var i = 0; ; i++)
        {
            var key = candidate(i);
            if (MstKeyDepth.Of(Encoding.ASCII.GetBytes(key)) == depth && (accept?.Invoke(key) ?? true))
            {
                return key;
            }
        }
    }

    private static byte[] Node(Cid? left, params (string Key, Cid? Right)[] entries) => Node(left, entries, includeEmptyLinks: true);

    private static byte[] Node(Cid? left, (string Key, Cid? Right) entry, bool includeEmptyLinks) => Node(left, [entry], includeEmptyLinks);

    /// <summary>Every entry carries its full key (p = 0); <paramref name="includeEmptyLinks"/> false leaves null l/t out.</summary>
    private static byte[] Node(Cid? left, (string Key, Cid? Right)[] entries, bool includeEmptyLinks) => Cbor.Write(w =>
    {
        var writeLeft = left is not null || includeEmptyLinks;
        w.WriteStartMap(writeLeft ? 2 : 1);
        w.WriteTextString("e");
        w.WriteStartArray(entries.Length);
        foreach (var (key, right) in entries)
        {
            var writeRight = right is not null || includeEmptyLinks;
            w.WriteStartMap(writeRight ? 4 : 3);
            w.WriteTextString("k");
            w.WriteByteString(Encoding.ASCII.GetBytes(key));
            w.WriteTextString("p");
            w.WriteInt32(0);
            if (writeRight)
            {
                w.WriteTextString("t");
                WriteNullableLink(w, right);
            }

            w.WriteTextString("v");
            w.WriteLink(Record);
            w.WriteEndMap();
        }

        w.WriteEndArray();
        if (writeLeft)
        {
            w.WriteTextString("l");
            WriteNullableLink(w, left);
        }

        w.WriteEndMap();
    });

    private static void WriteNullableLink(System.Formats.Cbor.CborWriter writer, Cid? cid)
    {
        if (cid is null)
        {
            writer.WriteNull();
        }
        else
        {
            writer.WriteLink(cid);
        }
    }

    private sealed class Blocks : IBlockSource
    {
        private readonly Dictionary<Cid, byte[]> _blocks = [];

        public Cid Add(byte[] block)
        {
            var cid = Cid.Compute(Cid.DagCborCodec, block);
            _blocks[cid] = block;
            return cid;
        }

        public bool TryGetBlock(Cid cid, out ReadOnlyMemory<byte> block)
        {
            var found = _blocks.TryGetValue(cid, out var bytes);
            block = bytes;
            return found;
        }
    }
}
