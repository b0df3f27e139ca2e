using System.Net;
using PostService.Storage;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Analytics;

public abstract class EngagementTests(DatabaseProvider provider) : IAsyncLifetime
{
    public sealed class OnSqlite() : EngagementTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgres() : EngagementTests(DatabaseProvider.Postgres), IRunsOnPostgres;

    private FakeAppView _appView = null!;

    public async Task InitializeAsync() => _appView = await FakeAppView.StartAsync();

    public async Task DisposeAsync() => await _appView.DisposeAsync();

    private static string Uri(string rkey) => RetrievalBuilder.PostUri(rkey, "did:plc:engaged");

    private static string MetricsPath(string uri) => $"/posts/{System.Uri.EscapeDataString(uri)}/metrics";

    private static async Task RefreshAsync(HttpClient client) =>
        await (await client.PostAsync("/hydrate?refresh=true&wait=true", null)).AssertOkJsonAsync();

    [DatabaseFact]
    public async Task ASnapshotIsTakenAtTheFirstFetchAndAtEveryFetchThatSeesNewCounts()
    {
        _appView.AddPost(Uri("a"), post => post with { LikeCount = 2, RepostCount = 1 });
        using var service = HydratingService.Start(_appView, provider: provider);
        var client = service.CreateClient();
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPost(Uri("a"), 0)))).EnsureSuccessStatusCode();
        await Eventually.TrueAsync(() => service.Count("SELECT count(*) FROM post_metric_snapshots") == 1, "the first fetch is recorded");

        await RefreshAsync(client);
        _appView.AddPost(Uri("a"), post => post with { LikeCount = 9, RepostCount = 1, ReplyCount = 4 });
        await RefreshAsync(client);

        var series = (await client.GetOkJsonAsync(MetricsPath(Uri("a")))).GetProperty("snapshots").EnumerateArray().ToList();
        Assert.Equal([2, 9], series.Select(snapshot => snapshot.GetProperty("like_count").GetInt64()));
        Assert.Equal([0, 4], series.Select(snapshot => snapshot.GetProperty("reply_count").GetInt64()));
        Assert.All(series, snapshot => Assert.Equal("appview", snapshot.GetProperty("source").GetString()));
        Assert.True(string.CompareOrdinal(series[0].GetProperty("captured_at").GetString(), series[1].GetProperty("captured_at").GetString()) < 0);
        await (await client.GetAsync(MetricsPath(Uri("never-served")))).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [DatabaseFact]
    public async Task VelocityRanksThePostThatGainedMostFirstWithItsServedCount()
    {
        foreach (var rkey in new[] { "slow", "fast", "still" })
        {
            _appView.AddPost(Uri(rkey), post => post with { LikeCount = 10 });
        }
        using var service = HydratingService.Start(_appView, provider: provider);
        var client = service.CreateClient();
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(
            new RetrievalBuilder().WithPost(Uri("slow"), 0).WithPost(Uri("fast"), 1).WithPost(Uri("still"), 2),
            new RetrievalBuilder().WithPost(Uri("fast"), 0)))).EnsureSuccessStatusCode();
        await Eventually.TrueAsync(() => service.Count("SELECT count(*) FROM post_metric_snapshots") == 3, "the first fetches are recorded");

        _appView.AddPost(Uri("slow"), post => post with { LikeCount = 12 });
        _appView.AddPost(Uri("fast"), post => post with { LikeCount = 25, RepostCount = 3 });
        await RefreshAsync(client);

        var likes = (await client.GetOkJsonAsync("/posts/velocity?hours=1&metric=likes&limit=50")).EnumerateArray().ToList();
        Assert.Equal([Uri("fast"), Uri("slow")], likes.Select(post => post.GetProperty("post_uri").GetString()));
        Assert.Equal([15, 2], likes.Select(post => post.GetProperty("gained").GetInt64()));
        Assert.Equal(10, likes[0].GetProperty("baseline").GetInt64());
        Assert.Equal(25, likes[0].GetProperty("current").GetInt64());
        Assert.Equal(15.0, likes[0].GetProperty("per_hour").GetDouble());
        Assert.Equal([2, 1], likes.Select(post => post.GetProperty("times_served").GetInt64()));
        var engagement = (await client.GetOkJsonAsync("/posts/velocity?metric=ENGAGEMENT&limit=1")).EnumerateArray().Single();
        Assert.Equal(18, engagement.GetProperty("gained").GetInt64());
        Assert.Empty((await client.GetOkJsonAsync("/posts/velocity?metric=quotes")).EnumerateArray());
    }

    [DatabaseTheory]
    [InlineData("/posts/velocity?hours=0")]
    [InlineData("/posts/velocity?hours=721")]
    [InlineData("/posts/velocity?metric=views")]
    [InlineData("/posts/velocity?metric=1")]
    [InlineData("/posts/velocity?limit=501")]
    public async Task AnInvalidVelocityQueryIsA400Problem(string path)
    {
        using var service = new PostServiceFactory(provider: provider);

        await (await service.CreateClient().GetAsync(path)).AssertProblemAsync(HttpStatusCode.BadRequest);
    }
}
