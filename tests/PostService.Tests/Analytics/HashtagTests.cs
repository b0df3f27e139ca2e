using System.Net;
using Dapper;
using PostService.Cli;
using PostService.Storage;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Analytics;

public abstract class HashtagTests(DatabaseProvider provider) : IAsyncLifetime
{
    public sealed class OnSqlite() : HashtagTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgres() : HashtagTests(DatabaseProvider.Postgres), IRunsOnPostgres;

    private FakeAppView _appView = null!;

    public async Task InitializeAsync() => _appView = await FakeAppView.StartAsync();

    public async Task DisposeAsync() => await _appView.DisposeAsync();

    private static string Uri(string rkey, string did = "did:plc:tagger") => RetrievalBuilder.PostUri(rkey, did);

    private static string HoursAgo(double hours) => DbTime.ToText(DateTimeOffset.UtcNow.AddHours(-hours));

    private static Task<CliResult> RebuildStatsAsync(PostServiceFactory service) =>
        CliRunner.RunAsync(service.DatabasePath is { } path ? ["rebuild-hashtag-stats", "--db", path] : ["rebuild-hashtag-stats"], service.Database.Settings);

    [DatabaseFact]
    public async Task HashtagsComeFromFacetsAndTagsNormalisedAndListTheirPosts()
    {
        _appView.AddPost(Uri("a"), post => post with { TextHashtags = ["Science", "ｖｏｔｅ"] });
        _appView.AddPost(Uri("b"), post => post with { RecordTags = ["#science"] });
        _appView.AddPost(Uri("c"));
        using var service = HydratingService.Start(_appView, provider: provider);
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPost(Uri("a"), 0).WithPost(Uri("b"), 1).WithPost(Uri("c"), 2))))
            .EnsureSuccessStatusCode();
        await Eventually.TrueAsync(() => service.Count("SELECT count(*) FROM posts WHERE hydration_status = 'ok'") == 3, "the posts are hydrated");
        await Eventually.TrueAsync(() => service.Count("SELECT count(*) FROM post_hashtags") == 3, "their hashtags are recorded");
        var client = service.CreateClient();

        var science = await client.GetOkJsonAsync("/hashtags/%23SCIENCE/posts");
        var vote = await client.GetOkJsonAsync("/hashtags/vote/posts");

        Assert.Equal([Uri("a"), Uri("b")], science.GetProperty("items").EnumerateArray().Select(post => post.GetProperty("post_uri").GetString()));
        Assert.Equal(1, science.GetProperty("items")[0].GetProperty("times_served").GetInt64());
        Assert.Equal([Uri("a")], vote.GetProperty("items").EnumerateArray().Select(post => post.GetProperty("post_uri").GetString()));
        using var db = service.OpenDatabase();
        Assert.Equal(["science", "vote"], db.Query<string>("SELECT name FROM hashtags ORDER BY name"));
        await (await client.GetAsync("/hashtags/unheard-of/posts")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [DatabaseFact]
    public async Task AHashtagThatSpikesInTheLastHoursRanksFirstInTrending()
    {
        _appView.AddPost(Uri("steady", "did:plc:one"), post => post with { RecordTags = ["weather"], LikeCount = 4 });
        _appView.AddPost(Uri("spike1", "did:plc:two"), post => post with { RecordTags = ["earthquake"] });
        _appView.AddPost(Uri("spike2", "did:plc:three"), post => post with { RecordTags = ["earthquake"], LikeCount = 7 });
        using var service = HydratingService.Start(_appView, provider: provider);
        var retrievals = new List<RetrievalBuilder>();
        for (var hour = 0; hour < 28; hour++)
        {
            retrievals.Add(new RetrievalBuilder().At(HoursAgo(hour + 0.2)).WithPost(Uri("steady", "did:plc:one"), 0));
            retrievals.Add(new RetrievalBuilder().At(HoursAgo(hour + 0.6)).WithPost(Uri("steady", "did:plc:one"), 0));
        }
        // All in the current hour (its first instant has passed), so each hourly value counts each post once.
        var thisHour = DbTime.ToText(PostService.Analytics.HashtagStats.HourOf(DateTimeOffset.UtcNow));
        for (var i = 0; i < 6; i++)
        {
            retrievals.Add(new RetrievalBuilder().At(thisHour).WithPost(Uri("spike1", "did:plc:two"), 0).WithPost(Uri("spike2", "did:plc:three"), 1));
        }
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch([.. retrievals]))).EnsureSuccessStatusCode();
        await Eventually.TrueAsync(() => service.Count("SELECT count(*) FROM post_hashtags") == 3, "the hashtags are recorded");

        var rebuilt = await RebuildStatsAsync(service);
        var trending = (await service.CreateClient().GetOkJsonAsync("/hashtags/trending?hours=4&baseline_hours=24&limit=20")).EnumerateArray().ToList();

        Assert.True(rebuilt.ExitCode == ExitCodes.Ok, rebuilt.ToString());
        Assert.Equal(["earthquake", "weather"], trending.Select(tag => tag.GetProperty("name").GetString()));
        var spike = trending[0];
        Assert.True(spike.GetProperty("score").GetDouble() > 1, spike.ToString());
        Assert.Equal(12, spike.GetProperty("recent").GetProperty("times_served").GetInt64());
        Assert.Equal(0, spike.GetProperty("baseline").GetProperty("times_served").GetInt64());
        Assert.Equal(7, spike.GetProperty("recent").GetProperty("engagement").GetInt64());
        Assert.Equal(2, spike.GetProperty("recent").GetProperty("unique_authors").GetInt64());
        // Two servings an hour throughout: about as many an hour recently as in the baseline (hour edges shift a few).
        Assert.True(trending[1].GetProperty("score").GetDouble() < 1, trending[1].ToString());
        Assert.InRange(trending[1].GetProperty("baseline").GetProperty("times_served").GetInt64(), 44, 50);
    }

    [DatabaseFact]
    public async Task TheServiceKeepsTheRecentHoursOfTheStatisticsUpToDate()
    {
        _appView.AddPost(Uri("a"), post => post with { RecordTags = ["live"] });
        using var service = HydratingService.Start(_appView, new Dictionary<string, string?> { ["PostService:Analytics:HashtagStatsIntervalSeconds"] = "1" }, provider: provider);

        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().At(HoursAgo(0)).WithPost(Uri("a"), 0)))).EnsureSuccessStatusCode();

        await Eventually.TrueAsync(() => service.Count("SELECT coalesce(sum(times_served), 0) FROM hashtag_hourly_stats") == 1, "the statistics count the serving");
    }

    [DatabaseTheory]
    [InlineData("/hashtags/trending?hours=0")]
    [InlineData("/hashtags/trending?baseline_hours=721")]
    [InlineData("/hashtags/trending?limit=201")]
    [InlineData("/hashtags/x/posts?cursor=%%%")]
    public async Task AnInvalidHashtagQueryIsA400Problem(string path)
    {
        using var service = new PostServiceFactory(provider: provider);

        await (await service.CreateClient().GetAsync(path)).AssertProblemAsync(HttpStatusCode.BadRequest);
    }
}
