using PostService.Storage;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Analytics;

/// <summary>
/// Analytics over what the official AppView serves (shared/realappview): likes and reposts added between two fetches,
/// hashtags from real records. Each test makes accounts of its own, so runs and other tests do not disturb it.
/// </summary>
public abstract class RealNetworkAnalyticsTests(DatabaseProvider provider)
{
    public sealed class OnSqlite() : RealNetworkAnalyticsTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgres() : RealNetworkAnalyticsTests(DatabaseProvider.Postgres), IRunsOnPostgres;

    private static RealAppViewNetwork Network => RealAppViewNetwork.Required;

    private static readonly TimeSpan HydrationTimeout = TimeSpan.FromSeconds(60);

    private PostServiceFactory StartService() =>
        HydratingService.Start(Network.AppViewUrl, new Dictionary<string, string?> { ["PostService:AppView:AttemptTimeoutSeconds"] = "15" }, provider: provider);

    private static async Task ServeAsync(PostServiceFactory service, params string[] uris)
    {
        var retrieval = new RetrievalBuilder();
        for (var i = 0; i < uris.Length; i++)
        {
            retrieval.WithPost(uris[i], i);
        }
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(retrieval))).EnsureSuccessStatusCode();
        await Eventually.TrueAsync(
            () => service.Count("SELECT count(*) FROM posts WHERE hydration_status = 'ok'") == uris.Length, "the served posts are hydrated", HydrationTimeout);
        // What follows a fetch (snapshots, hashtags, media) is written just after the posts' rows.
        await Eventually.TrueAsync(
            () => service.Count("SELECT count(DISTINCT post_uri) FROM post_metric_snapshots") == uris.Length, "their first snapshots are recorded");
    }

    private static async Task<string[]> AccountsAsync(int count)
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var accounts = new string[count];
        for (var i = 0; i < count; i++)
        {
            accounts[i] = (await Network.CreateAccountAsync($"an{run}{i}")).Did;
        }
        return accounts;
    }

    [RealAppViewDatabaseFact]
    public async Task SnapshotsRecordTheGrowthBetweenTwoFetchesAndVelocityRanksTheFastestFirst()
    {
        var accounts = await AccountsAsync(4);
        var (author, fans) = (accounts[0], accounts[1..]);
        var (popular, _) = await Network.CreatePostAsync(author, "a post many will like");
        var (quiet, _) = await Network.CreatePostAsync(author, "a post one will like");
        using var service = StartService();
        var client = service.CreateClient();
        await ServeAsync(service, popular, quiet);

        foreach (var fan in fans)
        {
            await Network.LikeAsync(fan, popular);
        }
        await Network.RepostAsync(fans[0], popular);
        await Network.LikeAsync(fans[0], quiet);
        await (await client.PostAsync("/hydrate?refresh=true&wait=true", null)).AssertOkJsonAsync();

        var series = (await client.GetOkJsonAsync($"/posts/{Uri.EscapeDataString(popular)}/metrics")).GetProperty("snapshots").EnumerateArray().ToList();
        Assert.Equal([0, 3], series.Select(snapshot => snapshot.GetProperty("like_count").GetInt64()));
        Assert.Equal([0, 1], series.Select(snapshot => snapshot.GetProperty("repost_count").GetInt64()));
        var ranked = (await client.GetOkJsonAsync("/posts/velocity?hours=1&metric=likes")).EnumerateArray().ToList();
        Assert.Equal([popular, quiet], ranked.Select(post => post.GetProperty("post_uri").GetString()));
        Assert.Equal([3, 1], ranked.Select(post => post.GetProperty("gained").GetInt64()));
        Assert.Equal(1, ranked[0].GetProperty("times_served").GetInt64());
    }

    [RealAppViewDatabaseFact]
    public async Task TheWorkerFetchesAPostAgainOnItsScheduleAndSeesWhatItGained()
    {
        var accounts = await AccountsAsync(3);
        var (author, fans) = (accounts[0], accounts[1..]);
        var (post, _) = await Network.CreatePostAsync(author, "a post liked after it was served");
        // The first refresh comes 20 s after serving: time enough to add the likes after the first fetch.
        using var service = HydratingService.Start(Network.AppViewUrl, new Dictionary<string, string?>
        {
            ["PostService:AppView:AttemptTimeoutSeconds"] = "15",
            ["PostService:Hydration:RefreshAfter"] = "20s,1h",
        }, provider: provider);
        var client = service.CreateClient();
        var servedAt = DateTimeOffset.UtcNow;
        var retrieval = new RetrievalBuilder().At(DbTime.ToText(servedAt)).WithPost(post, 0);
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(retrieval))).EnsureSuccessStatusCode();
        await Eventually.TrueAsync(
            () => service.Count("SELECT count(*) FROM post_metric_snapshots") == 1, "the post is hydrated and its first snapshot recorded", HydrationTimeout);

        foreach (var fan in fans)
        {
            await Network.LikeAsync(fan, post);
        }
        await Network.RepostAsync(fans[0], post);
        await Eventually.TrueAsync(
            () => service.Count("SELECT count(*) FROM post_metric_snapshots") == 2, "the scheduled refresh records the growth", HydrationTimeout);

        var series = (await client.GetOkJsonAsync($"/posts/{Uri.EscapeDataString(post)}/metrics")).GetProperty("snapshots").EnumerateArray().ToList();
        Assert.Equal([0, 2], series.Select(snapshot => snapshot.GetProperty("like_count").GetInt64()));
        Assert.Equal([0, 1], series.Select(snapshot => snapshot.GetProperty("repost_count").GetInt64()));
        Assert.True(DbTime.TryParse(series[1].GetProperty("captured_at").GetString(), out var refreshedAt));
        Assert.True(refreshedAt >= servedAt.AddSeconds(20), $"refreshed at {refreshedAt:O}, before its first age after {servedAt:O}");
        var stats = await client.GetOkJsonAsync("/hydration/stats");
        Assert.Equal(0, stats.GetProperty("refresh_backlog").GetInt64());
        Assert.Equal(1, stats.GetProperty("refreshes_scheduled").GetInt64());
        // Nothing was ingested in between: the worker woke on its own, and says so.
        var runs = (await client.GetOkJsonAsync("/hydration/runs")).EnumerateArray().ToList();
        Assert.Contains(runs, run => run.GetProperty("trigger").GetString() == "schedule" && run.GetProperty("hydrated").GetInt64() == 1);
    }

    [RealAppViewDatabaseFact]
    public async Task HashtagsOfRealPostsAreRecordedAndOneThatSpikesTrendsFirst()
    {
        var author = (await AccountsAsync(1))[0];
        var run = Guid.NewGuid().ToString("N")[..6];
        var spiking = await Network.CreatePostAsync(author, "the ground shook", [$"Quake{run}"]);
        var steady = await Network.CreatePostAsync(author, "rain again", [$"rain{run}"]);
        var seeded = Network.Posts["hashtag"];
        // The seeded post's #tag facets, read straight from the AppView's answer.
        var record = (await Network.GetPostViewsAsync([seeded]))[seeded].GetProperty("record");
        var seededTags = record.GetProperty("facets").EnumerateArray()
            .SelectMany(facet => facet.GetProperty("features").EnumerateArray())
            .Where(feature => feature.GetProperty("$type").GetString() == "app.bsky.richtext.facet#tag")
            .Select(feature => feature.GetProperty("tag").GetString()!.ToLowerInvariant()).Distinct().ToList();
        Assert.NotEmpty(seededTags);
        using var service = StartService();
        var retrievals = new List<RetrievalBuilder>();
        for (var hour = 0; hour < 28; hour++)
        {
            retrievals.Add(new RetrievalBuilder().At(DbTime.ToText(DateTimeOffset.UtcNow.AddHours(-hour - 0.5))).WithPost(steady, 0));
        }
        for (var i = 0; i < 8; i++)
        {
            retrievals.Add(new RetrievalBuilder().At(DbTime.ToText(DateTimeOffset.UtcNow.AddMinutes(-5 * i - 1))).WithPost(spiking, 0));
        }
        retrievals.Add(new RetrievalBuilder().At(DbTime.ToText(DateTimeOffset.UtcNow.AddMinutes(-2))).WithPost(seeded, 0));
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch([.. retrievals]))).EnsureSuccessStatusCode();
        await Eventually.TrueAsync(() => service.Count("SELECT count(*) FROM posts WHERE hydration_status = 'ok'") == 3, "the posts are hydrated", HydrationTimeout);
        await Eventually.TrueAsync(() => service.Count("SELECT count(*) FROM post_hashtags") == 2 + seededTags.Count, "their hashtags are recorded");

        var rebuilt = await CliRunner.RunAsync(service.DatabasePath is { } path ? ["rebuild-hashtag-stats", "--db", path] : ["rebuild-hashtag-stats"], service.Database.Settings);
        var client = service.CreateClient();
        var trending = (await client.GetOkJsonAsync("/hashtags/trending?hours=2&baseline_hours=24")).EnumerateArray().ToList();
        var seededPosts = await client.GetOkJsonAsync($"/hashtags/{Uri.EscapeDataString(seededTags[0])}/posts");

        Assert.True(rebuilt.ExitCode == 0, rebuilt.ToString());
        Assert.Equal($"quake{run}", trending[0].GetProperty("name").GetString());
        Assert.Equal(8, trending[0].GetProperty("recent").GetProperty("times_served").GetInt64());
        Assert.Contains($"rain{run}", trending.Skip(1).Select(tag => tag.GetProperty("name").GetString()));
        Assert.Equal([seeded], seededPosts.GetProperty("items").EnumerateArray().Select(post => post.GetProperty("post_uri").GetString()));
    }

    [RealAppViewDatabaseFact]
    public async Task AQuotePostAndALinkPostShowWhatTheyEmbed()
    {
        var author = (await AccountsAsync(1))[0];
        var linked = Network.Posts["externalEmbed"];
        var quote = await Network.CreatePostAsync(author, "look at this", quote: linked);
        var external = (await Network.GetPostViewsAsync([linked]))[linked].GetProperty("embed").GetProperty("external");
        using var service = StartService();
        var client = service.CreateClient();

        await ServeAsync(service, quote, linked);
        await Eventually.TrueAsync(() => service.Count("SELECT count(*) FROM post_media") == 2, "the media are recorded");

        var quoted = (await client.GetOkJsonAsync($"/posts/{Uri.EscapeDataString(quote)}")).GetProperty("media").EnumerateArray().Single();
        Assert.Equal(("quote", linked), (quoted.GetProperty("kind").GetString(), quoted.GetProperty("quoted_uri").GetString()));
        var link = (await client.GetOkJsonAsync($"/posts/{Uri.EscapeDataString(linked)}")).GetProperty("media").EnumerateArray().Single();
        Assert.Equal(("external", external.GetProperty("uri").GetString(), external.GetProperty("title").GetString()),
            (link.GetProperty("kind").GetString(), link.GetProperty("url").GetString(), link.GetProperty("title").GetString()));
        var page = await client.GetOkJsonAsync("/posts?has_media=quote");
        Assert.Equal([quote], page.GetProperty("items").EnumerateArray().Select(post => post.GetProperty("post_uri").GetString()));
    }
}
