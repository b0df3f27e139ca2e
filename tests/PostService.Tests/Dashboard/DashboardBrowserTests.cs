using System.Globalization;
using System.Text.Json;
using Dapper;
using Microsoft.Playwright;
using PostService.Storage;
using PostService.Storage.Migrations;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace PostService.Tests.Dashboard;

/// <summary>
/// <c>/dashboard</c> in headless Chromium against a real hydrating service on loopback. Screenshots go to
/// <c>bin/.../artifacts/</c>; with <c>UPDATE_SCREENSHOTS=1</c> they are also copied to <c>docs/</c> for the README.
/// </summary>
public sealed class DashboardBrowserTests : IAsyncLifetime
{
    private static readonly string[] Statuses = ["ok", "pending", "not_found", "error", "invalid"];

    private FakeAppView _appView = null!;

    public async Task InitializeAsync() => _appView = await FakeAppView.StartAsync();

    public async Task DisposeAsync() => await _appView.DisposeAsync();

    private static string Uri(string rkey) => RetrievalBuilder.PostUri(rkey);

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    [ChromiumFact]
    public async Task TheDashboardShowsTheCoverageEndpointsNumbersAndStartsAForcedRun()
    {
        // Nothing is retried or swept on its own during the test, so the numbers hold still while the page is read.
        using var service = new PostServiceFactory(HydratingService.Settings(_appView, new Dictionary<string, string?>
        {
            ["PostService:Hydration:SweepIntervalSeconds"] = "3600",
            ["PostService:Hydration:RetryBackoffSeconds"] = "3600",
        }));
        var baseUrl = service.StartOnLoopback();
        var client = service.CreateClient();
        await StorePostsInEveryStatusAsync(service, client);

        var coverage = await client.GetOkJsonAsync("/hydration/coverage");
        var stats = await client.GetOkJsonAsync("/hydration/stats");
        var throughput = await client.GetOkJsonAsync("/hydration/throughput?hours=6");

        await using var chromium = await HeadlessChromium.LaunchAsync();
        var (page, requests, problems) = await OpenDashboardAsync(chromium, baseUrl, new() { Width = 1280, Height = 900 });

        await Expect(page.Locator("#total-posts")).ToHaveTextAsync(Count(coverage.GetProperty("total_posts").GetInt64()));
        await Expect(page.Locator("#coverage-pct")).ToHaveTextAsync(
            coverage.GetProperty("coverage_pct").GetDouble().ToString("#,##0.##", CultureInfo.InvariantCulture) + "%");
        foreach (var status in Statuses)
        {
            var expected = coverage.GetProperty("by_status").GetProperty(status).GetInt64();
            Assert.True(expected > 0, $"the test data has {status} posts");
            await Expect(page.Locator($"#status-table tr[data-status='{status}'] td.count")).ToHaveTextAsync(Count(expected));
        }
        // Not yet asked of any PDS here (the fake AppView's authors have none): every not_found post is unexplained.
        await Expect(page.Locator("#reason-table tr[data-reason='unexplained'] td.count")).ToHaveTextAsync(
            Count(coverage.GetProperty("not_found_by_reason").GetProperty("unexplained").GetInt64()));
        Assert.Equal(coverage.GetProperty("by_status").GetProperty("not_found").GetInt64(),
            coverage.GetProperty("not_found_by_reason").GetProperty("unexplained").GetInt64());
        var today = coverage.GetProperty("failure_trend").EnumerateArray().Last();
        var todayRow = page.Locator("#trend-table tbody tr").First;
        await Expect(todayRow).ToHaveTextAsync(today.GetProperty("day").GetString()! + Count(today.GetProperty("not_found").GetInt64())
            + Count(today.GetProperty("error").GetInt64()));
        await Expect(page.Locator("#throughput-text")).ToContainTextAsync(
            $"{Count(throughput.GetProperty("total").GetInt64())} posts hydrated in the last 6 h");
        await Expect(page.Locator("#budget-text")).ToContainTextAsync(
            $"of {Count(stats.GetProperty("budget_calls").GetInt32())} AppView calls used");
        await Expect(page.Locator("#last-error")).ToHaveTextAsync(stats.GetProperty("last_error").GetString()!);
        var runsBefore = (await client.GetOkJsonAsync("/hydration/runs?limit=15")).GetArrayLength();
        await Expect(page.Locator("#runs-table tbody tr[data-run-id]")).ToHaveCountAsync(runsBefore);

        await AssertEveryChartHasATextAlternativeAsync(page);
        await SaveScreenshotAsync(page, "dashboard.png", forDocs: true);
        await TakePhoneScreenshotAsync(chromium, baseUrl);

        await page.Locator("#run-button").ClickAsync();

        await Expect(page.Locator("#run-progress")).ToContainTextAsync("completed", new() { Timeout = 30_000 });
        var run = (await client.GetOkJsonAsync("/hydration/runs?limit=1"))[0];
        Assert.Equal("manual", run.GetProperty("trigger").GetString());
        Assert.True(run.GetProperty("force").GetBoolean());
        var row = page.Locator($"#runs-table tr[data-run-id='{run.GetProperty("run_id").GetInt64()}']");
        await Expect(row).ToContainTextAsync("manualforcecompleted");
        await Expect(row.Locator("a")).ToHaveAttributeAsync("href", $"hydration/runs/{run.GetProperty("run_id").GetInt64()}");
        await Expect(page.Locator("#run-attempted")).ToHaveTextAsync(Count(run.GetProperty("attempted").GetInt64()));
        Assert.True(run.GetProperty("attempted").GetInt64() > 0);
        await SaveScreenshotAsync(page, "dashboard-after-run.png", forDocs: false);

        Assert.Empty(problems);
        Assert.All(requests, url => Assert.StartsWith(baseUrl + "/", url));
    }

    [ChromiumFact]
    public async Task TheAnalyticsCardsShowTrendingHashtagsTheFastestGainingPostsAndTombstonesAsTheirEndpointsDo()
    {
        _appView.AddPost(Uri("quake"), post => post with { RecordTags = ["earthquake"], LikeCount = 1 });
        _appView.AddPost(Uri("gone"));
        _appView.AddPost(Uri("rain"), post => post with { RecordTags = ["weather"], LikeCount = 1 });
        using var service = new PostServiceFactory(HydratingService.Settings(_appView, new Dictionary<string, string?>
        {
            ["PostService:Analytics:HashtagStatsIntervalSeconds"] = "1",
        }));
        var baseUrl = service.StartOnLoopback();
        var client = service.CreateClient();
        var now = DbTime.ToText(DateTimeOffset.UtcNow.AddMinutes(-1));
        var retrievals = Enumerable.Range(0, 5).Select(_ => new RetrievalBuilder().At(now).WithPost(Uri("quake"), 0))
            .Append(new RetrievalBuilder().At(now).WithPost(Uri("rain"), 0)).Append(new RetrievalBuilder().At(now).WithPost(Uri("gone"), 0)).ToArray();
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(retrievals), client)).EnsureSuccessStatusCode();
        await Eventually.TrueAsync(() => service.Count("SELECT count(*) FROM post_metric_snapshots") == 3, "the posts are hydrated");
        // Left out at the refresh: tombstoned, with no reason yet (the fake's authors have no PDS to ask).
        _appView.RemovePost(Uri("gone"));
        _appView.AddPost(Uri("quake"), post => post with { RecordTags = ["earthquake"], LikeCount = 40 });
        _appView.AddPost(Uri("rain"), post => post with { RecordTags = ["weather"], LikeCount = 3 });
        await (await client.PostAsync("/hydrate?refresh=true&wait=true", null)).AssertOkJsonAsync();
        await Eventually.TrueAsync(() => service.Count("SELECT coalesce(sum(times_served), 0) FROM hashtag_hourly_stats") == 6, "the hashtag statistics are current");
        var trending = await client.GetOkJsonAsync("/hashtags/trending?hours=4&baseline_hours=24&limit=10");
        var velocity = await client.GetOkJsonAsync("/posts/velocity?hours=1&metric=likes&limit=10");
        var tombstones = await client.GetOkJsonAsync("/posts/tombstones?days=30");

        await using var chromium = await HeadlessChromium.LaunchAsync();
        var (page, requests, problems) = await OpenDashboardAsync(chromium, baseUrl, new() { Width = 1280, Height = 900 });

        var top = trending[0];
        Assert.Equal("earthquake", top.GetProperty("name").GetString());
        var topRow = page.Locator("#trending-table tbody tr").First;
        await Expect(topRow).ToHaveAttributeAsync("data-hashtag", "earthquake");
        await Expect(topRow.Locator("td.score")).ToHaveTextAsync(top.GetProperty("score").GetDouble().ToString("#,##0.##", CultureInfo.InvariantCulture));
        await Expect(page.Locator("#trending-table tbody tr")).ToHaveCountAsync(trending.GetArrayLength());
        await Expect(page.GetByRole(AriaRole.Img, new() { NameRegex = new("^Bar chart of hashtag spike scores") })).ToHaveCountAsync(1);
        var fastest = page.Locator("#velocity-table tbody tr").First;
        await Expect(fastest).ToHaveAttributeAsync("data-post", velocity[0].GetProperty("post_uri").GetString()!);
        await Expect(fastest.Locator("td.gained")).ToHaveTextAsync(Count(39));
        await Expect(page.Locator("#velocity-table tbody tr")).ToHaveCountAsync(2);
        await Expect(page.Locator("#velocity-text")).ToContainTextAsync("2 posts gained likes in the last hour; the most: 39.");
        var day = Assert.Single(tombstones.GetProperty("per_day").EnumerateArray());
        Assert.Equal(1, day.GetProperty("tombstoned_by_reason").GetProperty("unexplained").GetInt64());
        var dayRow = page.Locator("#tombstones-table tbody tr").First;
        await Expect(dayRow).ToHaveAttributeAsync("data-day", day.GetProperty("day").GetString()!);
        await Expect(dayRow).ToHaveTextAsync(day.GetProperty("day").GetString()! + "1unexplained 11unexplained 1");
        await Expect(page.Locator("#tombstones-table tbody tr")).ToHaveCountAsync(1);
        await Expect(page.Locator("#tombstones-text")).ToContainTextAsync("Tombstoned in the last 30 days: 1 served posts (unexplained 1). Not found at their latest fetch in that time: 1.");
        await Expect(page.GetByRole(AriaRole.Img, new() { NameRegex = new("^Bar chart of posts tombstoned per UTC day by reason") })).ToHaveCountAsync(1);
        await SaveScreenshotAsync(page, "dashboard-analytics.png", forDocs: false);

        Assert.Empty(problems);
        Assert.All(requests, url => Assert.StartsWith(baseUrl + "/", url));
    }

    /// <summary>
    /// Posts in every status, hydrated for real through the fake AppView, plus history the page can draw:
    /// ok posts over the last hours and failures over the last weeks, written as a long-running service leaves them.
    /// </summary>
    private async Task StorePostsInEveryStatusAsync(PostServiceFactory service, HttpClient client)
    {
        var retrieval = new RetrievalBuilder();
        for (var i = 0; i < 3; i++)
        {
            _appView.AddPost(Uri($"ok{i}"));
            retrieval.WithPost(Uri($"ok{i}"));
        }
        retrieval.WithPost(Uri("deleted1")).WithPost(Uri("deleted2"));
        _appView.FailWhenContains(Uri("rejected"), 400);
        retrieval.WithPost(Uri("rejected")).WithPost("https://bsky.app/profile/someone/post/3k");
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(retrieval), client)).EnsureSuccessStatusCode();
        await Eventually.TrueAsync(
            () => service.Count("SELECT count(*) FROM posts WHERE hydration_status IN ('ok', 'not_found', 'error')") == 6,
            "the stored posts are hydrated");
        // A batch of its own that the AppView keeps failing: the worker's last error.
        _appView.FailWhenContains(Uri("unavailable"), 503);
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPost(Uri("unavailable"))), client)).EnsureSuccessStatusCode();
        await Eventually.TrueAsync(
            () => service.Count("SELECT count(*) FROM posts WHERE hydration_status = 'error'") == 2, "the failing batch is marked error");
        await Eventually.TrueAsync(() =>
        {
            var stats = client.GetOkJsonAsync("/hydration/stats").Result;
            return stats.GetProperty("active_run_id").ValueKind == JsonValueKind.Null && stats.GetProperty("queue_depth").GetInt32() == 0;
        }, "the worker is idle");

        var now = DateTimeOffset.UtcNow;
        var history = new List<object>();
        for (var minute = 1; minute < 5 * 60; minute++)
        {
            var perMinute = (int)Math.Round(6 + 5 * Math.Sin(minute / 23.0) + (minute % 17 == 0 ? 6 : 0));
            for (var i = 0; i < perMinute; i++)
            {
                history.Add(Row($"h{minute}-{i}", "ok", now.AddMinutes(-minute).AddSeconds(i)));
            }
        }
        for (var day = 1; day < 30; day++)
        {
            for (var i = 0; i < day * 7 % 5 + (day % 9 == 0 ? 8 : 1); i++)
            {
                history.Add(Row($"nf{day}-{i}", "not_found", now.AddDays(-day)));
            }
            for (var i = 0; i < day % 4; i++)
            {
                history.Add(Row($"err{day}-{i}", "error", now.AddDays(-day)));
            }
        }
        history.Add(Row("waiting1", "pending", null));
        history.Add(Row("waiting2", "pending", null));
        using var db = service.OpenDatabase();
        using var transaction = db.BeginTransaction();
        // Failed history has used up its attempts: only a forced run fetches it again.
        db.Execute("""
            INSERT INTO posts (post_uri, hydration_status, last_hydrated_at, author_did, attempts, hydration_error)
            VALUES (@Uri, @Status, @At, @AuthorDid, 5, @Error)
            """, history, transaction);
        // Rows written past the service are not counted by its writers: count them as a migrated file's are.
        db.Execute(M006_PostCounts.Recount, transaction: transaction);
        transaction.Commit();
    }

    private static object Row(string rkey, string status, DateTimeOffset? at) => new
    {
        Uri = Uri(rkey),
        Status = status,
        At = at is { } time ? DbTime.ToText(time) : null,
        AuthorDid = status == "ok" ? "did:plc:author1" : null,
        Error = status == "error" ? "AppView answered 502" : null,
    };

    private static async Task<(IPage Page, List<string> Requests, List<string> Problems)> OpenDashboardAsync(
        HeadlessChromium chromium, string baseUrl, ViewportSize viewport, bool phone = false)
    {
        var context = await chromium.Browser.NewContextAsync(new()
        {
            ViewportSize = viewport, DeviceScaleFactor = phone ? 2 : 1, IsMobile = phone, HasTouch = phone, ColorScheme = ColorScheme.Light,
        });
        var page = await context.NewPageAsync();
        var requests = new List<string>();
        var problems = new List<string>();
        page.Request += (_, request) => requests.Add(request.Url);
        page.PageError += (_, error) => problems.Add("page error: " + error);
        page.Response += (_, response) =>
        {
            if (response.Status >= 400)
            {
                problems.Add($"HTTP {response.Status}: {response.Request.Method} {response.Url}");
            }
        };
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                problems.Add("console error: " + message.Text);
            }
        };
        var response = await page.GotoAsync(baseUrl + "/dashboard");
        Assert.Equal(200, response?.Status);
        await Expect(page.Locator("#updated")).ToContainTextAsync("Updated");
        await Expect(page.Locator("#runs-table tbody tr").First).ToBeVisibleAsync();
        return (page, requests, problems);
    }

    private static async Task TakePhoneScreenshotAsync(HeadlessChromium chromium, string baseUrl)
    {
        var (page, _, problems) = await OpenDashboardAsync(chromium, baseUrl, new() { Width = 390, Height = 844 }, phone: true);
        var overflow = await page.EvaluateAsync<bool>("document.documentElement.scrollWidth > document.documentElement.clientWidth");
        Assert.False(overflow, "the page scrolls sideways on a phone");
        await SaveScreenshotAsync(page, "dashboard-phone.png", forDocs: true);
        Assert.Empty(problems);
    }

    /// <summary>Each chart is an image with a label, next to its numbers in text.</summary>
    private static async Task AssertEveryChartHasATextAlternativeAsync(IPage page)
    {
        var charts = page.Locator(".chart svg");
        Assert.Equal(6, await charts.CountAsync());
        foreach (var chart in await charts.AllAsync())
        {
            Assert.Equal("img", await chart.GetAttributeAsync("role"));
            Assert.False(string.IsNullOrWhiteSpace(await chart.GetAttributeAsync("aria-label")));
        }
        await Expect(page.GetByRole(AriaRole.Img, new() { NameRegex = new("^Posts by status") })).ToHaveCountAsync(1);
        await Expect(page.GetByRole(AriaRole.Img, new() { NameRegex = new("^Bar chart of posts tombstoned per UTC day by reason") })).ToHaveCountAsync(1);
        Assert.Equal(30, await page.Locator("#trend-table tbody tr").CountAsync());
        // Six hours that end with the current minute touch six or seven clock hours.
        Assert.InRange(await page.Locator("#throughput-table tbody tr").CountAsync(), 6, 7);
    }

    /// <summary>
    /// Saves a full-page screenshot to the test artifacts; with <c>UPDATE_SCREENSHOTS=1</c> and <paramref name="forDocs"/>,
    /// also to docs/ at the repository root, where the README shows it.
    /// </summary>
    private static async Task SaveScreenshotAsync(IPage page, string fileName, bool forDocs)
    {
        var path = HeadlessChromium.ArtifactPath(fileName);
        await page.ScreenshotAsync(new() { Path = path, FullPage = true });
        if (forDocs && Environment.GetEnvironmentVariable("UPDATE_SCREENSHOTS") == "1")
        {
            File.Copy(path, Path.Combine(RepositoryPaths.Root, "docs", fileName), overwrite: true);
        }
    }
}
