using PostService.Atproto;

namespace PostService.Tests.Atproto;

/// <summary>
/// Seeded mutations of the real captures: whatever the bytes, the readers either succeed or throw
/// <see cref="AtprotoFormatException"/>, never anything else, and always come back.
/// </summary>
public sealed class FuzzTests
{
    private const int MutationsPerFile = 200;

    public static TheoryData<string> Files() => [.. TestFiles.AllBinaryFiles()];

    [Theory]
    [MemberData(nameof(Files))]
    public async Task MutatedInputOnlyEverFailsWithAtprotoFormatException(string file)
    {
        var original = TestFiles.Read(file);
        var random = new Random(HashCode(file));
        var outcomes = new int[2];

        for (var i = 0; i < MutationsPerFile; i++)
        {
            var mutated = Mutate(original, random);
            try
            {
                await ReadEverythingAsync(file, mutated);
                outcomes[0]++;
            }
            catch (AtprotoFormatException)
            {
                outcomes[1]++;
            }
        }

        Assert.Equal(MutationsPerFile, outcomes[0] + outcomes[1]);
        Assert.True(outcomes[1] > 0, "some mutations must be caught");
    }

    private static async Task ReadEverythingAsync(string file, byte[] data)
    {
        if (file.EndsWith(".car", StringComparison.Ordinal))
        {
            foreach (var record in RepoReader.Open(data).ReadRecords())
            {
                Assert.NotNull(record.Value);
            }

            using var stream = new MemoryStream(data);
            var fromStream = await RepoReader.OpenAsync(stream, null, CancellationToken.None);
            Assert.NotEmpty(fromStream.CommitCid.ToString());
            return;
        }

        if (new FirehoseFrameReader().Read(data) is FirehoseCommit commit)
        {
            var blocks = CarReader.ReadAll(commit.Blocks);
            foreach (var root in blocks.Header.Roots)
            {
                if (blocks.TryGetBlock(root, out var block))
                {
                    MstWalker.Walk(RepoCommit.Decode(block).Data, blocks, tolerateMissingBlocks: true).ToList();
                }
            }
        }
    }

    private static byte[] Mutate(byte[] original, Random random)
    {
        var data = new List<byte>(original);
        var edits = random.Next(1, 4);
        for (var e = 0; e < edits && data.Count > 0; e++)
        {
            var at = random.Next(data.Count);
            switch (random.Next(6))
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
                    // A varint or CBOR length pushed to its largest form.
                    data[at] = 0xff;
                    if (at + 1 < data.Count)
                    {
                        data[at + 1] = 0xff;
                    }

                    break;
                default:
                    data[at] = (byte)random.Next(256);
                    break;
            }
        }

        return [.. data];
    }

    // string.GetHashCode is randomised per process; this one is stable, so each file's mutations repeat.
    private static int HashCode(string text)
    {
        var hash = 17;
        foreach (var c in text)
        {
            hash = unchecked((hash * 31) + c);
        }

        return hash;
    }
}
