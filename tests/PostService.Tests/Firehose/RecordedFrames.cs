using PostService.Tests.Infrastructure;

namespace PostService.Tests.Firehose;

/// <summary>Real subscribeRepos frames of the loopback PDS (Atproto/TestData/README.md says how they were captured).</summary>
internal static class RecordedFrames
{
    public const string Alice = "did:plc:x57v2sqc7gm2wtojkewru6jb";
    public const string Bob = "did:plc:ypkutx2masihjisd3s66x5im";
    public const string AtReader = "did:plc:uapwsbzuhqxyy3r2pnmfudla";
    public const string AlicePost = $"at://{Alice}/app.bsky.feed.post/3n3jg77cgwk2h";
    public const string AliceReply = $"at://{Alice}/app.bsky.feed.post/3n3jg77wrd22h";
    public const string BobPost = $"at://{Bob}/app.bsky.feed.post/3n3jg2gho2c2h";
    public const string BobDeleted = $"at://{Bob}/app.bsky.feed.post/3n3jg2gijfc2h";

    /// <summary>All of them, in seq order: a delete, a post, a reply, a follow, then an account's identity, account and sync events.</summary>
    public static IReadOnlyList<FakeFrame> All { get; } =
    [
        Read(29, "frame-commit-bob-delete.bin"),
        Read(30, "frame-commit-alice-post.bin"),
        Read(32, "frame-commit-alice-reply.bin"),
        Read(36, "frame-commit-alice-follow.bin"),
        Read(37, "frame-identity-atreader-created.bin"),
        Read(38, "frame-account-atreader-active.bin"),
        Read(40, "frame-sync-atreader.bin"),
        Read(42, "frame-identity-atreader-handle.bin"),
        Read(43, "frame-account-atreader-deactivated.bin"),
    ];

    public static FakeFrame Read(long seq, string file) =>
        new(seq, File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Atproto", "TestData", file)));

}
