using Microsoft.Extensions.Time.Testing;
using PostService.Identity;

namespace PostService.Tests.Identity;

public sealed class IdentityCachingTests
{
    [Fact]
    public void AnAnswerIsKeptForItsTimeToLiveOnly()
    {
        var time = new FakeTimeProvider();
        var cache = new TtlCache<string>(time);
        cache.Set("alice.test", "did:plc:alice", TimeSpan.FromHours(1));
        cache.Set("broken.test", "no", TimeSpan.Zero);

        Assert.True(cache.TryGet("alice.test", out var did));
        Assert.Equal("did:plc:alice", did);
        Assert.False(cache.TryGet("broken.test", out _));
        time.Advance(TimeSpan.FromHours(1));
        Assert.False(cache.TryGet("alice.test", out _));
    }

    [Theory]
    [InlineData("""{"id":"did:plc:a","alsoKnownAs":["https://x","at://Alice.Test"],"service":[{"id":"did:plc:a#atproto_pds","type":"AtprotoPersonalDataServer","serviceEndpoint":"https://pds.example"}]}""", "https://pds.example/", "alice.test")]
    [InlineData("""{"id":"did:plc:a","service":[{"id":"#atproto_pds","type":"AtprotoPersonalDataServer","serviceEndpoint":"https://pds.example"}]}""", "https://pds.example/", null)]
    public void ADidDocumentGivesItsPdsAndHandle(string json, string pds, string? handle)
    {
        var document = DidDocumentParser.Parse("did:plc:a", json).Value!;
        Assert.Equal(pds, document.PdsEndpoint.ToString());
        Assert.Equal(handle, document.Handle);
    }

    [Theory]
    [InlineData("[]", "is not a JSON object")]
    [InlineData("""{"id":"did:plc:a","service":{"id":"#atproto_pds"}}""", "has no #atproto_pds")]
    [InlineData("""{"id":"did:plc:a","service":[{"id":"#atproto_pds","type":"Other","serviceEndpoint":"https://pds.example"}]}""", "has no #atproto_pds")]
    [InlineData("""{"id":"did:plc:a","service":[{"id":"#atproto_pds","type":"AtprotoPersonalDataServer","serviceEndpoint":"https://pds.example/?x=1"}]}""", "has no #atproto_pds")]
    [InlineData("""{"service":[]}""", "names another DID")]
    public void AMalformedDidDocumentIsAReason(string json, string reason) =>
        Assert.Contains(reason, DidDocumentParser.Parse("did:plc:a", json).Failure);
}
