using PostService.Atproto;
using PostService.Firehose;

namespace PostService.Tests.Firehose;

public sealed class FirehoseEventMapperTests
{
    private static FirehoseEvent Map(string file) =>
        FirehoseEventMapper.Map(new FirehoseFrameReader().Read(RecordedFrames.Read(0, file).Bytes))!;

    [Fact]
    public void APostCreatedKeepsItsTextLanguagesHashtagsAndCid()
    {
        var mapped = Map("frame-commit-alice-post.bin");

        Assert.Equal(30, mapped.Seq);
        var post = Assert.IsType<PostCreated>(Assert.Single(mapped.Changes));
        Assert.Equal(RecordedFrames.AlicePost, post.Uri);
        Assert.Equal(RecordedFrames.Alice, post.Did);
        Assert.Equal("Reader test: hello from alice #atproto #dotnet", post.Text);
        Assert.Equal("""["en"]""", post.Langs);
        Assert.Equal("""["atproto","dotnet"]""", post.Hashtags);
        Assert.StartsWith("bafyrei", post.Cid);
        Assert.NotNull(post.CreatedAt);
    }

    [Fact]
    public void AReplyNamesItsParentAndCountsAsAReplyToIt()
    {
        var changes = Map("frame-commit-alice-reply.bin").Changes;

        var reply = Assert.IsType<PostCreated>(changes[0]);
        Assert.Equal(RecordedFrames.BobPost, reply.ReplyParentUri);
        Assert.Equal(RecordedFrames.BobPost, reply.ReplyRootUri);
        Assert.Equal(new EngagementCreated(EngagementKind.Reply, RecordedFrames.BobPost), changes[1]);
    }

    [Fact]
    public void ADeletedPostAndAHandleChangeAreSeen()
    {
        Assert.Equal([new PostDeleted(RecordedFrames.BobDeleted)], Map("frame-commit-bob-delete.bin").Changes);
        Assert.Equal([new HandleChanged(RecordedFrames.AtReader, "atreader2.test")], Map("frame-identity-atreader-handle.bin").Changes);
    }

    [Fact]
    public void FollowsAccountAndSyncEventsChangeNothingButStillMoveTheCursor()
    {
        foreach (var (file, seq) in new[] { ("frame-commit-alice-follow.bin", 36L), ("frame-account-atreader-active.bin", 38L), ("frame-sync-atreader.bin", 40L) })
        {
            var mapped = Map(file);
            Assert.Equal(seq, mapped.Seq);
            Assert.Empty(mapped.Changes);
        }
    }

    [Fact]
    public void RecordsOfTheKindsABackfillKeepsComeWithTheirCollectionKeyAndCid()
    {
        var follow = Assert.Single(Map("frame-commit-alice-follow.bin").Records!);
        Assert.Equal((RecordedFrames.Alice, "app.bsky.graph.follow"), (follow.Did, follow.Collection));
        Assert.StartsWith("bafyrei", follow.Cid);
        Assert.Equal("app.bsky.graph.follow", (string?)follow.Record["$type"]);

        var post = Assert.Single(Map("frame-commit-alice-post.bin").Records!);
        Assert.Equal(RecordedFrames.AlicePost, $"at://{post.Did}/{post.Collection}/{post.Rkey}");
        Assert.Empty(Map("frame-sync-atreader.bin").Records ?? []);
    }
}
