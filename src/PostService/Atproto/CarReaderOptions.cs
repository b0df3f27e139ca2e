namespace PostService.Atproto;

public sealed record CarReaderOptions
{
    public static readonly CarReaderOptions Default = new();

    /// <summary>Largest section (CID + block) accepted; atproto blocks stay well under 2 MiB.</summary>
    public int MaxSectionBytes { get; init; } = 2 * 1024 * 1024;

    public int MaxHeaderBytes { get; init; } = 64 * 1024;
}
