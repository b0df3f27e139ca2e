using System.Net;
using Dapper;
using PostService.Storage;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Posts;

public abstract class PostsEndpointsTests(DatabaseProvider provider) : IDisposable
{
    public sealed class OnSqlite() : PostsEndpointsTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgres() : PostsEndpointsTests(DatabaseProvider.Postgres), IRunsOnPostgres;

    private readonly PostServiceFactory _service = new(provider: provider);

    public void Dispose() => _service.Dispose();

    [DatabaseFact]
    public async Task APostCanBeReadByItsEncodedOrRawUri()
    {
        var uri = RetrievalBuilder.PostUri("3kabc", "did:plc:w6bi6bljjbl67ox3fucssffl");
        (await _service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPost(uri, 0, cid: "bafyreicid")))).EnsureSuccessStatusCode();
        var client = _service.CreateClient();

        var encoded = await client.GetOkJsonAsync("/posts/" + Uri.EscapeDataString(uri));
        var raw = await client.GetOkJsonAsync("/posts/" + uri);

        Assert.Equal(uri, encoded.GetProperty("post_uri").GetString());
        Assert.Equal(uri, raw.GetProperty("post_uri").GetString());
        Assert.Equal("bafyreicid", raw.GetProperty("cid").GetString());
        Assert.Equal("pending", raw.GetProperty("hydration_status").GetString());
    }

    [DatabaseTheory]
    [InlineData("/posts/at%3A%2F%2Fdid%3Aplc%3Anobody%2Fapp.bsky.feed.post%2Fx")]
    [InlineData("/posts/at://did:plc:nobody/app.bsky.feed.post/x")]
    [InlineData("/posts/..%2F..%2Fetc%2Fpasswd")]
    [InlineData("/posts/at%253A%252F%252Fdid")]
    public async Task AnUnknownPostIsA404Problem(string path)
    {
        var response = await _service.CreateClient().GetAsync(path);

        await response.AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [DatabaseFact]
    public async Task PostsCanBeListedByAuthorAndStatusPageByPage()
    {
        var retrieval = new RetrievalBuilder();
        for (var i = 0; i < 5; i++)
        {
            retrieval.WithPost(RetrievalBuilder.PostUri($"a{i}", "did:plc:alice"), i);
            retrieval.WithPost(RetrievalBuilder.PostUri($"b{i}", "did:plc:bob"), 10 + i);
        }
        (await _service.PostRetrievalsAsync(RetrievalBuilder.Batch(retrieval))).EnsureSuccessStatusCode();
        using (var db = _service.OpenDatabase())
        {
            db.Execute("UPDATE posts SET author_did = 'did:plc:alice', hydration_status = 'ok' WHERE post_uri LIKE 'at://did:plc:alice/%'");
        }
        var client = _service.CreateClient();

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await client.GetOkJsonAsync($"/posts?author_did=did:plc:alice&status=ok&limit=2{(cursor is null ? "" : "&cursor=" + cursor)}");
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("post_uri").GetString()!));
            cursor = page.GetProperty("next_cursor").GetString();
            pages++;
        } while (cursor is not null);

        Assert.Equal(Enumerable.Range(0, 5).Select(i => RetrievalBuilder.PostUri($"a{i}", "did:plc:alice")), seen);
        Assert.Equal(3, pages);
        var pending = await client.GetOkJsonAsync("/posts?status=pending&limit=1000");
        Assert.Equal(5, pending.GetProperty("items").GetArrayLength());
    }

    [DatabaseTheory]
    [InlineData("/posts?limit=0")]
    [InlineData("/posts?limit=1001")]
    [InlineData("/posts?status=done")]
    [InlineData("/posts?cursor=%%%")]
    public async Task AnInvalidListQueryIsA400Problem(string path)
    {
        await (await _service.CreateClient().GetAsync(path)).AssertProblemAsync(HttpStatusCode.BadRequest);
    }
}
