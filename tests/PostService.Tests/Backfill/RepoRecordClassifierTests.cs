using System.Text.Json.Nodes;
using PostService.Backfill;

namespace PostService.Tests.Backfill;

public sealed class RepoRecordClassifierTests
{
    private const string Did = "did:plc:participant";
    private const string Target = "at://did:plc:author/app.bsky.feed.post/3k2la3b4c5d6e";

    private static RepoRecordRow? Classify(string collection, string json) =>
        RepoRecordClassifier.Classify(Did, collection, "3kabc", "bafycid", JsonNode.Parse(json)!);

    [Fact]
    public void APostIsAReplyWhenItHasAParentElseAQuoteWhenItEmbedsARecordElseAPost()
    {
        Assert.Equal((RepoRecordType.Reply, Target), Row(Classify("app.bsky.feed.post",
            """{"text":"re","reply":{"parent":{"uri":"TARGET"},"root":{"uri":"TARGET"}},"embed":{"$type":"app.bsky.embed.record","record":{"uri":"at://x"}}}""".Replace("TARGET", Target))));
        Assert.Equal((RepoRecordType.Quote, Target), Row(Classify("app.bsky.feed.post",
            """{"text":"q","embed":{"$type":"app.bsky.embed.recordWithMedia","record":{"record":{"uri":"TARGET"}},"media":{}}}""".Replace("TARGET", Target))));
        Assert.Equal((RepoRecordType.Post, null), Row(Classify("app.bsky.feed.post", """{"text":"p","embed":{"$type":"app.bsky.embed.images"}}""")));
        Assert.Equal((RepoRecordType.Like, Target), Row(Classify("app.bsky.feed.like", """{"subject":{"uri":"TARGET","cid":"c"}}""".Replace("TARGET", Target))));
        Assert.Equal("did:plc:author", Classify("app.bsky.graph.block", """{"subject":"did:plc:author"}""")!.SubjectDid);
        Assert.Null(Classify("app.bsky.actor.profile", """{"displayName":"x"}"""));
    }

    [Fact]
    public void ARecordWithoutAValidCreatedAtIsKeptWithoutATimeWhateverTheWindow()
    {
        var undated = Classify("app.bsky.feed.post", """{"text":"p","createdAt":"yesterday"}""")!;
        var old = Classify("app.bsky.feed.post", """{"text":"p","createdAt":"2024-06-01T10:00:00+02:00"}""")!;
        Assert.Null(undated.CreatedAt);
        Assert.Equal("2024-06-01T08:00:00.000Z", old.CreatedAt);
        Assert.True(RepoRecordClassifier.InWindow(undated, "2025-01-01T00:00:00.000Z", null));
        Assert.False(RepoRecordClassifier.InWindow(old, "2025-01-01T00:00:00.000Z", null));
        Assert.True(RepoRecordClassifier.InWindow(old, null, "2024-06-01T08:00:00.001Z"));
        Assert.False(RepoRecordClassifier.InWindow(old, null, "2024-06-01T08:00:00.000Z"));
    }

    private static (string, string?) Row(RepoRecordRow? row) => (row!.RecordType, row.SubjectUri);
}
