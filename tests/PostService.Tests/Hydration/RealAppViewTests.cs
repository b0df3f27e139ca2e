using System.Text.Json;
using Dapper;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Hydration;

/// <summary>
/// Hydration against the official Bluesky AppView (shared/realappview, started by scripts/test.sh): what the service
/// stores must be exactly what the real AppView serves. Skipped, with the reason, when that network is not up.
/// The tests of one class run one after another, which matters here: one of them renames an account.
/// </summary>
public sealed class RealAppViewTests
{
    private static readonly TimeSpan HydrationTimeout = TimeSpan.FromSeconds(60);

    private static RealAppViewNetwork Network => RealAppViewNetwork.Required;

    // A real AppView on a busy two-core machine can take longer than the fake's 2 s per attempt.
    private static PostServiceFactory StartService() =>
        HydratingService.Start(Network.AppViewUrl, new Dictionary<string, string?> { ["PostService:AppView:AttemptTimeoutSeconds"] = "15" });

    private static async Task IngestAsync(PostServiceFactory service, params string[] uris) =>
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(RetrievalBuilder.Serving(uris)))).EnsureSuccessStatusCode();

    private static IDictionary<string, object?> Stored(PostServiceFactory service, string uri)
    {
        using var db = service.OpenDatabase();
        return (IDictionary<string, object?>)db.QuerySingle("SELECT * FROM posts WHERE post_uri = @uri", new { uri });
    }

    private static string Status(PostServiceFactory service, string uri) => (string)Stored(service, uri)["hydration_status"]!;

    private static Task SettledAsync(PostServiceFactory service, params (string Uri, string Status)[] expected) =>
        Eventually.TrueAsync(
            () => expected.All(post => Status(service, post.Uri) == post.Status),
            string.Join(", ", expected.Select(post => $"{post.Uri} is {post.Status}")), HydrationTimeout);

    private static async Task<JsonElement> RunAsync(PostServiceFactory service, string query) =>
        await (await service.CreateClient().PostAsync($"/hydrate?{query}&wait=true", null)).AssertOkJsonAsync();

    // Read from the postView here, independently of the service's parser, so that both cannot be wrong the same way.
    private static string? At(JsonElement element, params string[] path)
    {
        foreach (var name in path)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out element))
            {
                return null;
            }
        }
        return element.ValueKind == JsonValueKind.String ? element.GetString() : null;
    }

    private static long? CountAt(JsonElement view, string name) =>
        view.TryGetProperty(name, out var count) && count.ValueKind == JsonValueKind.Number ? count.GetInt64() : null;

    private static string[]? Langs(JsonElement view) =>
        view.GetProperty("record").TryGetProperty("langs", out var langs) && langs.ValueKind == JsonValueKind.Array
            ? langs.EnumerateArray().Select(lang => lang.GetString()!).ToArray()
            : null;

    private static void AssertStoredAsServed(IDictionary<string, object?> stored, JsonElement view)
    {
        var uri = (string)stored["post_uri"]!;
        void Same(object? expected, string column) =>
            Assert.True(Equals(expected, stored[column]), $"{uri}: {column} stored as [{stored[column]}], the AppView served [{expected}]");

        Same("ok", "hydration_status");
        Same(null, "hydration_error");
        Same("appview", "metadata_source");
        Same(At(view, "cid"), "cid");
        Same(At(view, "author", "did"), "author_did");
        Same(At(view, "author", "handle"), "author_handle");
        Same(At(view, "indexedAt"), "indexed_at");
        Same(At(view, "record", "createdAt"), "created_at");
        Same(At(view, "record", "text"), "text");
        Same(At(view, "record", "reply", "parent", "uri"), "reply_parent_uri");
        Same(At(view, "record", "reply", "root", "uri"), "reply_root_uri");
        Same(At(view, "embed", "$type"), "embed_type");
        Same(CountAt(view, "likeCount"), "like_count");
        Same(CountAt(view, "repostCount"), "repost_count");
        Same(CountAt(view, "replyCount"), "reply_count");
        Same(CountAt(view, "quoteCount"), "quote_count");
        var langs = stored["langs"] is string json ? JsonSerializer.Deserialize<string[]>(json) : null;
        Assert.Equal(Langs(view), langs);
    }

    [RealAppViewFact]
    public async Task SeededPostsAreStoredExactlyAsTheRealAppViewServesThem()
    {
        var network = Network;
        var uris = new[] { "plain", "hashtag", "externalEmbed", "reply" }.Select(name => network.Posts[name]).ToArray();
        using var service = StartService();

        await IngestAsync(service, uris);
        await SettledAsync(service, uris.Select(uri => (uri, "ok")).ToArray());

        var served = await network.GetPostViewsAsync(uris);
        foreach (var uri in uris)
        {
            Assert.True(served.ContainsKey(uri), $"the AppView no longer serves {uri}");
            AssertStoredAsServed(Stored(service, uri), served[uri]);
        }

        // What network.mjs seeded, so the comparison above is not between two equally empty answers.
        var plain = Stored(service, network.Posts["plain"]);
        Assert.Equal(network.Accounts["alice"].Did, plain["author_did"]);
        Assert.Equal("Hello from a real AppView", plain["text"]);
        Assert.Null(plain["embed_type"]);
        Assert.True((long?)plain["reply_count"] >= 1, "bob's seeded reply is counted");
        Assert.Matches(@"^b[a-z2-7]{50,}$", (string)plain["cid"]!);
        Assert.True(DateTimeOffset.TryParse((string?)plain["indexed_at"], out _), "indexed_at is a timestamp");
        Assert.True(DateTimeOffset.TryParse((string?)plain["created_at"], out _), "created_at is a timestamp");
        var hashtag = Stored(service, network.Posts["hashtag"]);
        Assert.Equal(network.Accounts["bob"].Did, hashtag["author_did"]);
        Assert.Equal("Testing hashtags #atproto works", hashtag["text"]);
        Assert.Equal("app.bsky.embed.external#view", Stored(service, network.Posts["externalEmbed"])["embed_type"]);
        var reply = Stored(service, network.Posts["reply"]);
        Assert.Equal(network.Posts["plain"], reply["reply_parent_uri"]);
        Assert.Equal(network.Posts["plain"], reply["reply_root_uri"]);
    }

    [RealAppViewFact]
    public async Task APostDeletedAfterHydrationBecomesNotFoundWhenRefreshedAndAForcedRunKeepsDeletedPostsNotFound()
    {
        var network = Network;
        var (uri, cid) = await network.CreatePostAsync("bob", $"PostService deletion test {Guid.NewGuid():N}");
        using var service = StartService();
        await IngestAsync(service, uri, network.DeletedPost);
        await SettledAsync(service, (uri, "ok"), (network.DeletedPost, "not_found"));
        Assert.Equal(cid, Stored(service, uri)["cid"]);

        await network.DeletePostAsync(uri);
        Assert.Empty(await network.GetPostViewsAsync([uri]));

        // force re-fetches only not_found and error posts: the seeded deleted post again, not the one still stored as ok.
        var forced = await RunAsync(service, "force=true");
        Assert.Equal(1, forced.GetProperty("attempted").GetInt64());
        Assert.Equal(1, forced.GetProperty("not_found").GetInt64());
        Assert.Equal("not_found", Status(service, network.DeletedPost));
        Assert.Equal("ok", Status(service, uri));

        // refresh re-fetches ok posts, which is how a deletion after hydration is noticed.
        var refreshed = await RunAsync(service, "refresh=true");
        Assert.Equal(1, refreshed.GetProperty("attempted").GetInt64());
        Assert.Equal(1, refreshed.GetProperty("not_found").GetInt64());
        var deleted = Stored(service, uri);
        Assert.Equal("not_found", deleted["hydration_status"]);
        Assert.Contains("not returned by the AppView", (string)deleted["hydration_error"]!);
    }

    [RealAppViewFact]
    public async Task AHandleChangedOnTheNetworkIsStoredAfterARefresh()
    {
        var network = Network;
        var alice = network.Accounts["alice"];
        var plain = network.Posts["plain"];
        using var service = StartService();
        await IngestAsync(service, plain);
        await SettledAsync(service, (plain, "ok"));
        var before = (string)Stored(service, plain)["author_handle"]!;
        Assert.Equal(At((await network.GetPostViewsAsync([plain]))[plain], "author", "handle"), before);

        var renamed = $"alice-{Guid.NewGuid():N}"[..14] + ".test";
        try
        {
            await network.ChangeHandleAsync("alice", renamed);
            var refreshed = await RunAsync(service, "refresh=true");

            Assert.Equal(1, refreshed.GetProperty("hydrated").GetInt64());
            var stored = Stored(service, plain);
            Assert.Equal(renamed, stored["author_handle"]);
            Assert.Equal(alice.Did, stored["author_did"]);
            AssertStoredAsServed(stored, (await network.GetPostViewsAsync([plain]))[plain]);
        }
        finally
        {
            // Back to the seeded handle, so the other tests (and later runs on this network) see what network.json says.
            await network.ChangeHandleAsync("alice", alice.Handle);
        }
    }
}
