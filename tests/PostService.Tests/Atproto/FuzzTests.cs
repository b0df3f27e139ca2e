using PostService.Atproto;

namespace PostService.Tests.Atproto;

/// <summary>
/// Seeded mutations of the real captures: whatever the bytes, the readers either succeed or throw
/// <see cref="AtprotoFormatException"/>, never anything else, and always come back. Whole files exercise the
/// framing (CAR blocks are hash-checked, so most damage stops there); mutated blocks served under their original
/// CIDs get past the hash check and exercise the DAG-CBOR, commit, tree and record decoders.
/// </summary>
public sealed class FuzzTests
{
    private const int MutationsPerFile = 200;

    public static TheoryData<string> Files() => [.. TestFiles.AllBinaryFiles()];

    [Theory]
    [MemberData(nameof(Files))]
    public async Task MutatedFilesOnlyEverFailWithAtprotoFormatException(string file)
    {
        var original = TestFiles.Read(file);
        var random = new Random(StableHash(file));
        var failures = 0;

        for (var i = 0; i < MutationsPerFile; i++)
        {
            var mutated = Mutate(original, random);
            try
            {
                await ReadFileAsync(file, mutated);
            }
            catch (AtprotoFormatException)
            {
                failures++;
            }
        }

        Assert.InRange(failures, 1, MutationsPerFile);
    }

    // Each bulk round walks the whole 301-record tree, hence fewer rounds there.
    [Theory]
    [InlineData("alice-repo.car", 2000)]
    [InlineData("atbulk-repo.car", 400)]
    public void MutatedBlocksBehindValidCidsOnlyEverFailWithAtprotoFormatException(string file, int mutations)
    {
        var car = TestFiles.Read(file);
        var blocks = CarReader.ReadAll(car);
        var cids = new List<Cid>();
        var reader = new CarReader(car);
        while (reader.TryReadBlock(out var block))
        {
            cids.Add(block.Cid);
        }

        var random = new Random(StableHash(file));
        var failures = 0;
        for (var i = 0; i < mutations; i++)
        {
            var target = cids[random.Next(cids.Count)];
            Assert.True(blocks.TryGetBlock(target, out var original));
            var source = new SubstitutingSource(blocks, target, Mutate(original.ToArray(), random));
            try
            {
                new SubstitutingRepo(source, blocks.Header.Roots[0], target).ReadAll();
            }
            catch (AtprotoFormatException)
            {
                failures++;
            }
        }

        Assert.InRange(failures, 1, mutations);
    }

    private static async Task ReadFileAsync(string file, byte[] data)
    {
        if (file.EndsWith(".car", StringComparison.Ordinal))
        {
            foreach (var record in RepoReader.Open(data).ReadRecords())
            {
                Assert.NotNull(record.Value);
            }

            using var stream = new MemoryStream(data);
            var fromStream = await RepoReader.OpenAsync(stream, null, CancellationToken.None);
            Assert.NotEmpty(fromStream.ReadEntries().ToList());
            return;
        }

        var message = new FirehoseFrameReader().Read(data);
        var carBytes = message switch
        {
            FirehoseCommit commit => commit.Blocks,
            FirehoseSync sync => sync.Blocks,
            _ => ReadOnlyMemory<byte>.Empty,
        };
        if (carBytes.IsEmpty)
        {
            return;
        }

        var blocks = CarReader.ReadAll(carBytes);
        if (blocks.Header.Roots.Count > 0 && blocks.TryGetBlock(blocks.Header.Roots[0], out var commitBlock))
        {
            MstWalker.Walk(RepoCommit.Decode(commitBlock).Data, blocks, tolerateMissingBlocks: true).ToList();
        }
    }

    private static byte[] Mutate(byte[] original, Random random)
    {
        var data = new List<byte>(original);
        var edits = random.Next(1, 4);
        for (var e = 0; e < edits && data.Count > 0; e++)
        {
            var at = random.Next(data.Count);
            switch (random.Next(7))
            {
                case 0:
                    data[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    data.RemoveRange(at, data.Count - at);
                    break;
                case 2:
                    data.Insert(at, (byte)random.Next(256));
                    break;
                case 3:
                    data.RemoveAt(at);
                    break;
                case 4:
                    // A CBOR length argument pushed to its largest form (0xff, 0xff: maximal or break codes).
                    data[at] = 0xff;
                    if (at + 1 < data.Count)
                    {
                        data[at + 1] = 0xff;
                    }

                    break;
                case 5:
                    // An inflated varint length (~268 MB) where a CAR length prefix may start.
                    data.InsertRange(at, [0xff, 0xff, 0xff, 0x7f]);
                    break;
                default:
                    data[at] = (byte)random.Next(256);
                    break;
            }
        }

        return [.. data];
    }

    // string.GetHashCode is randomised per process; this one is stable, so each run mutates alike.
    private static int StableHash(string text)
    {
        var hash = 17;
        foreach (var c in text)
        {
            hash = unchecked((hash * 31) + c);
        }

        return hash;
    }

    /// <summary>Serves one block's mutated bytes under its original CID, skipping the hash check on purpose.</summary>
    private sealed class SubstitutingSource(IBlockSource inner, Cid target, byte[] replacement) : IBlockSource
    {
        public bool TryGetBlock(Cid cid, out ReadOnlyMemory<byte> block)
        {
            if (cid == target)
            {
                block = replacement;
                return true;
            }

            return inner.TryGetBlock(cid, out block);
        }
    }

    /// <summary>
    /// What <see cref="RepoReader"/> does with its blocks: commit, tree walk, then the record if the mutated block is
    /// one (the others are unchanged, so decoding them again would only cost time).
    /// </summary>
    private sealed class SubstitutingRepo(IBlockSource blocks, Cid commitCid, Cid mutated)
    {
        public void ReadAll()
        {
            Assert.True(blocks.TryGetBlock(commitCid, out var commitBlock));
            var commit = RepoCommit.Decode(commitBlock);
            foreach (var entry in MstWalker.Walk(commit.Data, blocks))
            {
                if (entry.Cid == mutated && blocks.TryGetBlock(entry.Cid, out var record))
                {
                    DagCborReader.ReadJson(record)?.ToJsonString();
                }
            }
        }
    }
}
