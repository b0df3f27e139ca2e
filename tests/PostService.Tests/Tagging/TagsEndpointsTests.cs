using System.Net;
using System.Net.Http.Json;
using PostService.Storage;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Tagging;

public abstract class TagsEndpointsTests(DatabaseProvider provider) : IDisposable
{
    public sealed class OnSqlite() : TagsEndpointsTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgres() : TagsEndpointsTests(DatabaseProvider.Postgres), IRunsOnPostgres;

    private const string Key = "analyst-key-0123456789abcdef";

    private readonly PostServiceFactory _service = new(new Dictionary<string, string?> { ["PostService:Auth:ApiKeys:0"] = Key }, provider: provider);

    public void Dispose() => _service.Dispose();

    private static string Uri(string rkey) => RetrievalBuilder.PostUri(rkey, "did:plc:tagged");

    private static string TagPath(string uri, string tag) => $"/posts/{System.Uri.EscapeDataString(uri)}/tags/{tag}";

    private async Task<HttpClient> ServedAsync(params string[] rkeys)
    {
        var client = _service.CreateClient(Key);
        var retrieval = new RetrievalBuilder();
        for (var i = 0; i < rkeys.Length; i++)
        {
            retrieval.WithPost(Uri(rkeys[i]), i);
        }
        (await _service.PostRetrievalsAsync(RetrievalBuilder.Batch(retrieval), client)).EnsureSuccessStatusCode();
        return client;
    }

    [DatabaseFact]
    public async Task ATagRoundTripsThroughTheApi()
    {
        var client = await ServedAsync("a", "b");

        var created = await client.PostAsJsonAsync("/tags", new { name = "Misinformation", description = "False claims", color = "#b91c1c" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var tagged = await (await client.PutAsJsonAsync(TagPath(Uri("a"), "misinformation"),
            new { applied_by = "model", confidence = 0.87, notes = "claim about vaccines", version = "clf-2" })).AssertOkJsonAsync();
        (await client.PutAsync(TagPath(Uri("b"), "misinformation"), null)).EnsureSuccessStatusCode();

        Assert.Equal("model", tagged.GetProperty("applied_by").GetString());
        Assert.Equal(0.87, tagged.GetProperty("confidence").GetDouble());
        var tags = await client.GetOkJsonAsync("/tags");
        var tag = Assert.Single(tags.EnumerateArray());
        Assert.Equal("misinformation", tag.GetProperty("name").GetString());
        Assert.Equal("False claims", tag.GetProperty("description").GetString());
        Assert.Equal("#b91c1c", tag.GetProperty("color").GetString());
        Assert.Equal(2, tag.GetProperty("posts").GetInt64());
        var page = await client.GetOkJsonAsync("/tags/misinformation/posts");
        var items = page.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([Uri("a"), Uri("b")], items.Select(item => item.GetProperty("post_uri").GetString()));
        Assert.Equal(["model", "user"], items.Select(item => item.GetProperty("applied_by").GetString()));
        Assert.Equal("clf-2", items[0].GetProperty("version").GetString());
        Assert.Equal("claim about vaccines", items[0].GetProperty("notes").GetString());
        Assert.Equal("pending", items[0].GetProperty("hydration_status").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync(TagPath(Uri("a"), "misinformation"))).StatusCode);
        var after = await client.GetOkJsonAsync("/tags/misinformation/posts");
        Assert.Equal([Uri("b")], after.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("post_uri").GetString()));
        await (await client.DeleteAsync(TagPath(Uri("a"), "misinformation"))).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [DatabaseFact]
    public async Task SavingAnExistingTagUpdatesItAndKeepsItsPosts()
    {
        var client = await ServedAsync("a");
        (await client.PostAsJsonAsync("/tags", new { name = "satire" })).EnsureSuccessStatusCode();
        (await client.PutAsync(TagPath(Uri("a"), "satire"), null)).EnsureSuccessStatusCode();

        var updated = await (await client.PostAsJsonAsync("/tags", new { name = "SATIRE", color = "#15803d" })).AssertOkJsonAsync();

        Assert.Equal("satire", updated.GetProperty("name").GetString());
        Assert.Equal("#15803d", updated.GetProperty("color").GetString());
        Assert.Equal(1, updated.GetProperty("posts").GetInt64());
    }

    [DatabaseFact]
    public async Task BulkTaggingTagsTheServedPostsAndReturnsTheOthers()
    {
        var client = await ServedAsync("a", "b", "c");
        (await client.PostAsJsonAsync("/tags", new { name = "sample-1" })).EnsureSuccessStatusCode();

        var result = await (await client.PostAsJsonAsync("/tags/sample-1/posts",
            new { uris = new[] { Uri("c"), Uri("a"), Uri("never-served"), Uri("a") }, notes = "week 1 sample" })).AssertOkJsonAsync();

        Assert.Equal(2, result.GetProperty("tagged").GetInt32());
        Assert.Equal([Uri("never-served")], result.GetProperty("unknown_uris").EnumerateArray().Select(uri => uri.GetString()));
        var first = await client.GetOkJsonAsync("/tags/sample-1/posts?limit=1");
        Assert.Equal(Uri("a"), first.GetProperty("items")[0].GetProperty("post_uri").GetString());
        var second = await client.GetOkJsonAsync("/tags/sample-1/posts?limit=1&cursor=" + first.GetProperty("next_cursor").GetString());
        Assert.Equal(Uri("c"), second.GetProperty("items")[0].GetProperty("post_uri").GetString());
        Assert.Equal("week 1 sample", second.GetProperty("items")[0].GetProperty("notes").GetString());
    }

    [DatabaseFact]
    public async Task InvalidTaggingRequestsAreProblems()
    {
        var client = await ServedAsync("a");
        (await client.PostAsJsonAsync("/tags", new { name = "ok" })).EnsureSuccessStatusCode();

        await (await client.PostAsJsonAsync("/tags", new { name = "has space" })).AssertProblemAsync(HttpStatusCode.BadRequest);
        await (await client.PutAsJsonAsync(TagPath(Uri("a"), "ok"), new { confidence = 1.5 })).AssertProblemAsync(HttpStatusCode.BadRequest);
        await (await client.PutAsync(TagPath(Uri("a"), "unknown"), null)).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await client.PutAsync(TagPath(Uri("never-served"), "ok"), null)).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await client.GetAsync("/tags/unknown/posts")).AssertProblemAsync(HttpStatusCode.NotFound);
        var tooMany = Enumerable.Range(0, 1_001).Select(i => Uri($"p{i}")).ToArray();
        await (await client.PostAsJsonAsync("/tags/ok/posts", new { uris = tooMany })).AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [DatabaseFact]
    public async Task TagWritesNeedTheApiKeyButReadsDoNot()
    {
        await ServedAsync("a");
        var anonymous = _service.CreateClient();

        await (await anonymous.PostAsJsonAsync("/tags", new { name = "x" })).AssertProblemAsync(HttpStatusCode.Unauthorized);
        await (await anonymous.PutAsync(TagPath(Uri("a"), "x"), null)).AssertProblemAsync(HttpStatusCode.Unauthorized);
        await (await anonymous.DeleteAsync(TagPath(Uri("a"), "x"))).AssertProblemAsync(HttpStatusCode.Unauthorized);
        await (await anonymous.PostAsJsonAsync("/tags/x/posts", new { uris = new[] { Uri("a") } })).AssertProblemAsync(HttpStatusCode.Unauthorized);
        await anonymous.GetOkJsonAsync("/tags");
    }
}
