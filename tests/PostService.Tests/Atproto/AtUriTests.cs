using PostService.Atproto;

namespace PostService.Tests.Atproto;

public sealed class AtUriTests
{
    [Theory]
    [InlineData("at://did:plc:w6bi6bljjbl67ox3fucssffl/app.bsky.feed.post/3kx2abc", false)]
    [InlineData("at://did:web:example.com/app.bsky.feed.post/3kx2abc", false)]
    [InlineData("at://alice.bsky.social/app.bsky.feed.post/3kx2abc", true)]
    public void PostUrisWithADidOrHandleAreValid(string uri, bool handleAuthority)
    {
        var check = AtUri.CheckPostUri(uri);

        Assert.True(check.IsValid, check.Reason);
        Assert.Equal(handleAuthority, check.HasHandleAuthority);
    }

    [Theory]
    [InlineData("https://bsky.app/profile/alice/post/3k")]
    [InlineData("at://did:plc:abc/app.bsky.feed.like/3k")]
    [InlineData("at://did:plc:abc/app.bsky.feed.post")]
    [InlineData("at://did:plc:abc/app.bsky.feed.post/3k/extra")]
    [InlineData("at://did:plc:abc/app.bsky.feed.post/3k?x=1")]
    [InlineData("at://did:plc:abc/app.bsky.feed.post/3k#frag")]
    [InlineData("at://did:plc:abc/app.bsky.feed.post/..")]
    [InlineData("at://not a host/app.bsky.feed.post/3k")]
    [InlineData("at://did:plc:abc/app.bsky.feed.post/bad key")]
    [InlineData("at://did:plc:a/app.bsky.feed.post/x'; DROP TABLE posts; --")]
    [InlineData("")]
    public void OtherStringsAreInvalidWithAReason(string uri)
    {
        var check = AtUri.CheckPostUri(uri);

        Assert.False(check.IsValid);
        Assert.StartsWith("invalid post at-URI: ", check.Reason);
    }

    [Fact]
    public void AUriOverTheSpecLengthIsInvalid()
    {
        var check = AtUri.CheckPostUri("at://did:plc:abc/app.bsky.feed.post/" + new string('a', AtUri.MaxLength));

        Assert.False(check.IsValid);
        Assert.Contains("longer than", check.Reason);
    }
}
