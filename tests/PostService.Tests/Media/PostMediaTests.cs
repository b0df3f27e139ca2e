using System.Net;
using System.Text.Json;
using PostService.Atproto;
using PostService.Storage;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Media;

public abstract class PostMediaTests(DatabaseProvider provider) : IAsyncLifetime
{
    public sealed class OnSqlite() : PostMediaTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgres() : PostMediaTests(DatabaseProvider.Postgres), IRunsOnPostgres;

    private FakeAppView _appView = null!;

    public async Task InitializeAsync() => _appView = await FakeAppView.StartAsync();

    public async Task DisposeAsync() => await _appView.DisposeAsync();

    private static string Uri(string rkey) => RetrievalBuilder.PostUri(rkey, "did:plc:media");

    private static List<string?> UrisOf(JsonElement page) =>
        page.GetProperty("items").EnumerateArray().Select(post => post.GetProperty("post_uri").GetString()).ToList();

    [DatabaseFact]
    public async Task APostShowsWhatItEmbedsAndPostsCanBeListedByKindOfMedia()
    {
        var images = _appView.AddPost(Uri("images"), post => post.WithImages(2));
        _appView.AddPost(Uri("link"), post => post.WithExternalLink("https://example.org/story", "A story"));
        _appView.AddPost(Uri("plain"));
        using var service = HydratingService.Start(_appView, provider: provider);
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPost(Uri("images"), 0).WithPost(Uri("link"), 1).WithPost(Uri("plain"), 2))))
            .EnsureSuccessStatusCode();
        await Eventually.TrueAsync(() => service.Count("SELECT count(*) FROM posts WHERE hydration_status = 'ok'") == 3, "the posts are hydrated");
        await Eventually.TrueAsync(() => service.Count("SELECT count(*) FROM post_media") == 3, "their media are recorded");
        var client = service.CreateClient();

        var post = await client.GetOkJsonAsync("/posts/" + System.Uri.EscapeDataString(Uri("images")));
        var media = post.GetProperty("media").EnumerateArray().ToList();
        Assert.Equal(["image", "image"], media.Select(item => item.GetProperty("kind").GetString()));
        Assert.Equal("image 2", media[1].GetProperty("alt").GetString());
        Assert.Equal((1000, 750), (media[0].GetProperty("width").GetInt32(), media[0].GetProperty("height").GetInt32()));
        Assert.Equal(images.Embed!["images"]![0]!["fullsize"]!.GetValue<string>(), media[0].GetProperty("url").GetString());
        Assert.Equal(images.RecordEmbed!["images"]![0]!["image"]!["ref"]!["$link"]!.GetValue<string>(), media[0].GetProperty("blob_cid").GetString());
        var link = (await client.GetOkJsonAsync("/posts/" + System.Uri.EscapeDataString(Uri("link")))).GetProperty("media").EnumerateArray().Single();
        Assert.Equal(("external", "https://example.org/story", "A story"),
            (link.GetProperty("kind").GetString(), link.GetProperty("url").GetString(), link.GetProperty("title").GetString()));
        Assert.Empty((await client.GetOkJsonAsync("/posts/" + System.Uri.EscapeDataString(Uri("plain")))).GetProperty("media").EnumerateArray());
        Assert.Equal([Uri("images")], UrisOf(await client.GetOkJsonAsync("/posts?has_media=image")));
        Assert.Equal([Uri("link")], UrisOf(await client.GetOkJsonAsync("/posts?has_media=external")));
        Assert.Empty(UrisOf(await client.GetOkJsonAsync("/posts?has_media=video")));
        await (await client.GetAsync("/posts?has_media=gif")).AssertProblemAsync(HttpStatusCode.BadRequest);
    }
}

public sealed class PostMediaParsingTests
{
    private static IReadOnlyList<MediaItem> Parse(string view, string record = "{}") =>
        PostMedia.FromEmbed(JsonDocument.Parse(view).RootElement, JsonDocument.Parse(record).RootElement);

    [Fact]
    public void AVideoGivesItsPlaylistAltAspectRatioAndCid()
    {
        var media = Parse("""
            {"$type": "app.bsky.embed.video#view", "cid": "bafkreivideo", "playlist": "https://video.example/v.m3u8", "alt": "a cat",
             "aspectRatio": {"width": 1080, "height": 1920}}
            """);

        Assert.Equal(new MediaItem(MediaKind.Video, "https://video.example/v.m3u8", "a cat", 1080, 1920, "bafkreivideo"), media.Single());
    }

    [Fact]
    public void AQuoteWithAnExternalLinkGivesBoth()
    {
        var media = Parse("""
            {"$type": "app.bsky.embed.recordWithMedia#view",
             "record": {"record": {"$type": "app.bsky.embed.record#viewNotFound", "uri": "at://did:plc:x/app.bsky.feed.post/gone", "notFound": true}},
             "media": {"$type": "app.bsky.embed.external#view", "external": {"uri": "https://example.org", "title": "T", "description": "D"}}}
            """);

        Assert.Equal(
            [
                new MediaItem(MediaKind.Quote, null, QuotedUri: "at://did:plc:x/app.bsky.feed.post/gone"),
                new MediaItem(MediaKind.External, "https://example.org", Title: "T", Description: "D"),
            ],
            media);
    }

    [Theory]
    [InlineData("""{"$type": "app.bsky.embed.images#view", "images": "not an array"}""")]
    [InlineData("""{"$type": "app.bsky.embed.unknown#view"}""")]
    [InlineData("""[]""")]
    public void AnEmbedOfAnUnknownOrWrongShapeGivesNothing(string view)
    {
        Assert.Empty(Parse(view));
    }
}
