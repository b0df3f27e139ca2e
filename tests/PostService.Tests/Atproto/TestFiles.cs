namespace PostService.Tests.Atproto;

/// <summary>The captured files in TestData/ (see its README.md), copied next to the test assembly.</summary>
internal static class TestFiles
{
    public const string AliceDid = "did:plc:x57v2sqc7gm2wtojkewru6jb";
    public const string BobDid = "did:plc:ypkutx2masihjisd3s66x5im";
    public const string AtreaderDid = "did:plc:uapwsbzuhqxyy3r2pnmfudla";
    public const string AtbulkDid = "did:plc:y2gmbdshwh46mhyiy6m6sexx";

    public static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "Atproto", "TestData", name);

    public static byte[] Read(string name) => File.ReadAllBytes(PathOf(name));

    public static IEnumerable<string> AllBinaryFiles() =>
        Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Atproto", "TestData"))
            .Where(path => path.EndsWith(".car", StringComparison.Ordinal) || path.EndsWith(".bin", StringComparison.Ordinal))
            .Select(Path.GetFileName)
            .OfType<string>()
            .Order(StringComparer.Ordinal);
}
