using System.Text.Json.Nodes;

namespace PostService.Atproto;

/// <summary>
/// A whole repository from a CAR (getRepo): every block verified, the first root decoded as the commit, records
/// enumerated through the commit's tree in key order.
/// </summary>
public sealed class RepoReader
{
    private readonly IBlockSource _blocks;

    private RepoReader(IBlockSource blocks, CarHeader header)
    {
        _blocks = blocks;
        if (header.Roots.Count == 0)
        {
            throw new AtprotoFormatException("repo CAR has no root (the commit)");
        }

        CommitCid = header.Roots[0];
        if (!blocks.TryGetBlock(CommitCid, out var commitBlock))
        {
            throw new AtprotoFormatException($"repo CAR lacks its commit block {CommitCid}");
        }

        Commit = RepoCommit.Decode(commitBlock);
    }

    public Cid CommitCid { get; }

    public RepoCommit Commit { get; }

    /// <summary>Indexes a CAR in a seekable stream (e.g. a temp file) without keeping its blocks in memory.</summary>
    public static async Task<RepoReader> OpenAsync(Stream seekableCar, CarReaderOptions? options, CancellationToken cancellationToken)
    {
        var index = await CarFileIndex.BuildAsync(seekableCar, options, cancellationToken).ConfigureAwait(false);
        return new RepoReader(index, index.Header);
    }

    public static RepoReader Open(ReadOnlyMemory<byte> car, CarReaderOptions? options = null)
    {
        var blocks = CarReader.ReadAll(car, options);
        return new RepoReader(blocks, blocks.Header);
    }

    /// <summary>Paths and CIDs only, without reading record blocks.</summary>
    public IEnumerable<MstEntry> ReadEntries() => MstWalker.Walk(Commit.Data, _blocks);

    /// <summary>Every record decoded; a record block missing from the CAR is an error.</summary>
    public IEnumerable<RepoRecord> ReadRecords()
    {
        foreach (var entry in ReadEntries())
        {
            if (!_blocks.TryGetBlock(entry.Cid, out var block))
            {
                throw new AtprotoFormatException($"record {entry.Path} block {entry.Cid} is missing from the CAR");
            }

            var value = DagCborReader.ReadJson(block) as JsonObject
                ?? throw new AtprotoFormatException($"record {entry.Path} is not a map");
            yield return new RepoRecord(entry.Path.Collection, entry.Path.RecordKey, entry.Cid, value);
        }
    }
}
