using System.Net;
using Dapper;
using PostService.Storage;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.FeedRequests;

public abstract class FeedRequestsEndpointsTests(DatabaseProvider provider) : IDisposable
{
    public sealed class OnSqlite() : FeedRequestsEndpointsTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgres() : FeedRequestsEndpointsTests(DatabaseProvider.Postgres), IRunsOnPostgres;

    private readonly PostServiceFactory _service = new(provider: provider);

    public void Dispose() => _service.Dispose();

    [DatabaseFact]
    public async Task AFeedRequestListsItsPostsInPositionOrderWithTheirAuthors()
    {
        var hydrated = RetrievalBuilder.PostUri("hydrated", "did:plc:alice");
        var pending = RetrievalBuilder.PostUri("pending", "did:plc:bob");
        var retrieval = new RetrievalBuilder().WithPost(pending, 2).WithPost(hydrated, 0).WithPost(null, 1);
        (await _service.PostRetrievalsAsync(RetrievalBuilder.Batch(retrieval))).EnsureSuccessStatusCode();
        using (var db = _service.OpenDatabase())
        {
            db.Execute("""
                UPDATE posts SET author_did = 'did:plc:alice', author_handle = 'alice.test', hydration_status = 'ok'
                WHERE post_uri = @hydrated
                """, new { hydrated });
        }

        var request = await _service.CreateClient().GetOkJsonAsync($"/feed-requests/{retrieval.Id}");

        Assert.Equal("did:plc:subscriber1", request.GetProperty("requester_did").GetString());
        Assert.Equal(3, request.GetProperty("post_count").GetInt32());
        var posts = request.GetProperty("posts").EnumerateArray().ToList();
        Assert.Equal([0, 1, 2], posts.Select(post => post.GetProperty("post_index").GetInt32()));
        Assert.Equal(hydrated, posts[0].GetProperty("post_uri").GetString());
        Assert.Equal("did:plc:alice", posts[0].GetProperty("author_did").GetString());
        Assert.Equal("alice.test", posts[0].GetProperty("author_handle").GetString());
        Assert.Equal("ok", posts[0].GetProperty("hydration_status").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, posts[1].GetProperty("post_uri").ValueKind);
        Assert.Equal("pending", posts[2].GetProperty("hydration_status").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, posts[2].GetProperty("author_did").ValueKind);
    }

    [DatabaseFact]
    public async Task AnUnknownFeedRequestIsA404Problem()
    {
        await (await _service.CreateClient().GetAsync("/feed-requests/424242")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [DatabaseFact]
    public async Task FeedRequestsCanBeFilteredByRequesterAndTimeAndPaged()
    {
        var builders = new List<RetrievalBuilder>();
        for (var day = 1; day <= 6; day++)
        {
            builders.Add(new RetrievalBuilder().WithId(day).By(day % 2 == 0 ? "did:plc:even" : "did:plc:odd").At($"2025-05-0{day}T08:00:00Z"));
        }
        (await _service.PostRetrievalsAsync(RetrievalBuilder.Batch([.. builders]))).EnsureSuccessStatusCode();
        var client = _service.CreateClient();

        var ids = new List<long>();
        string? cursor = null;
        do
        {
            var page = await client.GetOkJsonAsync(
                $"/feed-requests?requester_did=did:plc:even&since=2025-05-02&until=2025-05-06T08:00:00Z&limit=1{(cursor is null ? "" : "&cursor=" + cursor)}");
            ids.AddRange(page.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("request_id").GetInt64()));
            cursor = page.GetProperty("next_cursor").GetString();
        } while (cursor is not null);

        Assert.Equal([2L, 4L], ids);
    }

    [DatabaseTheory]
    [InlineData("/feed-requests?since=last-week")]
    [InlineData("/feed-requests?limit=-1")]
    [InlineData("/feed-requests?cursor=bm90LWEtbnVtYmVy")]
    public async Task AnInvalidListQueryIsA400Problem(string path)
    {
        await (await _service.CreateClient().GetAsync(path)).AssertProblemAsync(HttpStatusCode.BadRequest);
    }
}
