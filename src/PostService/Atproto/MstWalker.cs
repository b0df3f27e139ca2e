namespace PostService.Atproto;

/// <summary>A record in the tree: its path and the CID of its block.</summary>
public readonly record struct MstEntry(RepoPath Path, Cid Cid);

/// <summary>
/// Enumerates a Merkle search tree in key order, depth first without recursion. Keys must strictly increase
/// across the whole walk and no node may be visited twice, so cycles and mis-ordered trees fail instead of looping.
/// Layers are checked as the repository spec asks: each subtree sits exactly one layer below its parent, and
/// only the root of an empty repository may be an empty node without a subtree.
/// </summary>
public static class MstWalker
{
    public const int MaxDepth = 128;

    /// <param name="tolerateMissingBlocks">
    /// Skip subtrees whose node is not in <paramref name="blocks"/> (a firehose CAR slice holds only the changed
    /// path); otherwise a missing node is an error.
    /// </param>
    public static IEnumerable<MstEntry> Walk(Cid root, IBlockSource blocks, bool tolerateMissingBlocks = false)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(blocks);
        return WalkIterator(root, blocks, tolerateMissingBlocks);
    }

    private static IEnumerable<MstEntry> WalkIterator(Cid root, IBlockSource blocks, bool tolerateMissingBlocks)
    {
        var visited = new HashSet<Cid>();
        var stack = new Stack<(MstNode Node, int Next, int Layer)>();
        string? previousKey = null;
        Descend(root, expectedLayer: null);
        while (stack.Count > 0)
        {
            var (node, next, layer) = stack.Pop();
            if (next == -1)
            {
                stack.Push((node, 0, layer));
                if (node.Left is not null)
                {
                    Descend(node.Left, layer - 1);
                }

                continue;
            }

            if (next == node.Entries.Count)
            {
                continue;
            }

            stack.Push((node, next + 1, layer));
            var entry = node.Entries[next];
            if (previousKey is not null && string.CompareOrdinal(entry.Key, previousKey) <= 0)
            {
                throw new AtprotoFormatException($"MST keys out of order: '{entry.Key}' after '{previousKey}'");
            }

            previousKey = entry.Key;
            yield return new MstEntry(RepoPath.Parse(entry.Key), entry.Value);
            if (entry.Right is not null)
            {
                Descend(entry.Right, layer - 1);
            }
        }

        void Descend(Cid cid, int? expectedLayer)
        {
            if (!visited.Add(cid))
            {
                throw new AtprotoFormatException($"MST node {cid} is reached twice (cycle or shared subtree)");
            }

            if (stack.Count >= MaxDepth)
            {
                throw new AtprotoFormatException($"MST deeper than {MaxDepth} levels");
            }

            if (!blocks.TryGetBlock(cid, out var block))
            {
                if (tolerateMissingBlocks)
                {
                    return;
                }

                throw new AtprotoFormatException($"MST node {cid} is missing from the blocks");
            }

            var node = MstNode.Decode(block);
            stack.Push((node, -1, CheckLayer(cid, node, expectedLayer)));
        }
    }

    private static int CheckLayer(Cid cid, MstNode node, int? expectedLayer)
    {
        if (expectedLayer < 0)
        {
            throw new AtprotoFormatException($"MST node {cid} hangs below layer 0");
        }

        if (node.Layer is { } layer && expectedLayer is { } expected && layer != expected)
        {
            throw new AtprotoFormatException($"MST node {cid} holds layer-{layer} keys where layer {expected} belongs");
        }

        if (node.Entries.Count == 0 && node.Left is null && expectedLayer is not null)
        {
            throw new AtprotoFormatException($"MST node {cid} is empty and points nowhere");
        }

        if (node.Entries.Count == 0 && node.Left is not null && expectedLayer is null)
        {
            throw new AtprotoFormatException($"MST root {cid} is an empty node over a subtree");
        }

        // An empty root (empty repository) has no children, so its layer only has to be non-negative.
        return node.Layer ?? expectedLayer ?? 0;
    }
}
