using System.Globalization;
using System.Net;
using Dapper;
using PostService.Storage;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Hydration;

public abstract class HydrationThroughputTests(DatabaseProvider provider) : IDisposable
{
    public sealed class OnSqlite() : HydrationThroughputTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgres() : HydrationThroughputTests(DatabaseProvider.Postgres), IRunsOnPostgres;

    private readonly PostServiceFactory _service = new(provider: provider);

    public void Dispose() => _service.Dispose();

    private async Task StorePostsAsync(params (string Rkey, string Status, DateTimeOffset? HydratedAt)[] posts)
    {
        var retrieval = new RetrievalBuilder();
        foreach (var post in posts)
        {
            retrieval.WithPost(RetrievalBuilder.PostUri(post.Rkey));
        }
        (await _service.PostRetrievalsAsync(RetrievalBuilder.Batch(retrieval))).EnsureSuccessStatusCode();
        using var db = _service.OpenDatabase();
        foreach (var post in posts)
        {
            db.Execute("UPDATE posts SET hydration_status = @Status, last_hydrated_at = to_ts(@At) WHERE post_uri = @Uri", new
            {
                post.Status,
                At = post.HydratedAt is { } at ? DbTime.ToText(at) : null,
                Uri = RetrievalBuilder.PostUri(post.Rkey),
            });
        }
    }

    [DatabaseFact]
    public async Task OkPostsAreCountedPerMinuteWithinTheLastHours()
    {
        var now = DateTimeOffset.UtcNow;
        var recent = now.AddMinutes(-3).AddTicks(-(now.Ticks % TimeSpan.TicksPerMinute)).AddSeconds(10); // both in one minute
        var earlier = now.AddHours(-2);
        await StorePostsAsync(
            ("r1", "ok", recent), ("r2", "ok", recent.AddMilliseconds(1)), ("e1", "ok", earlier),
            ("old", "ok", now.AddHours(-7)), ("gone", "not_found", recent), ("waiting", "pending", null));

        var asked = DateTimeOffset.UtcNow;
        var throughput = await _service.CreateClient().GetOkJsonAsync("/hydration/throughput");
        var answered = DateTimeOffset.UtcNow;

        Assert.Equal(6, throughput.GetProperty("hours").GetInt32());
        Assert.Equal(3, throughput.GetProperty("total").GetInt64());
        var minutes = throughput.GetProperty("per_minute").EnumerateArray()
            .Select(minute => (minute.GetProperty("minute").GetString(), minute.GetProperty("hydrated").GetInt64())).ToList();
        Assert.Equal([(DbTime.ToText(earlier)[..16], 1L), (DbTime.ToText(recent)[..16], 2L)], minutes);
        // Six hours that end with the current minute: they start 5 h 59 min before the minute the service answered in.
        var since = DateTimeOffset.Parse(throughput.GetProperty("since").GetString()!, CultureInfo.InvariantCulture);
        static DateTimeOffset StartFor(DateTimeOffset at) => new DateTimeOffset(at.Ticks - at.Ticks % TimeSpan.TicksPerMinute, TimeSpan.Zero).AddMinutes(1 - 6 * 60);
        Assert.InRange(since, StartFor(asked), StartFor(answered));
    }

    [DatabaseFact]
    public async Task AnEmptyDatabaseHasNoThroughputAndNoFailures()
    {
        var client = _service.CreateClient();

        var throughput = await client.GetOkJsonAsync("/hydration/throughput");
        var coverage = await client.GetOkJsonAsync("/hydration/coverage");

        Assert.Equal(0, throughput.GetProperty("total").GetInt64());
        Assert.Empty(throughput.GetProperty("per_minute").EnumerateArray());
        Assert.Equal(0, coverage.GetProperty("total_posts").GetInt64());
        Assert.Empty(coverage.GetProperty("failure_trend").EnumerateArray());
    }

    [DatabaseFact]
    public async Task HoursWidensTheWindow()
    {
        var now = DateTimeOffset.UtcNow;
        await StorePostsAsync(("old", "ok", now.AddHours(-7)), ("new", "ok", now.AddMinutes(-1)));

        var throughput = await _service.CreateClient().GetOkJsonAsync("/hydration/throughput?hours=8");

        Assert.Equal(8, throughput.GetProperty("hours").GetInt32());
        Assert.Equal(2, throughput.GetProperty("total").GetInt64());
    }

    [DatabaseTheory]
    [InlineData("0")]
    [InlineData("49")]
    [InlineData("-1")]
    public async Task HoursOutOfRangeIsA400Problem(string hours)
    {
        var response = await _service.CreateClient().GetAsync($"/hydration/throughput?hours={hours}");

        Assert.Contains("hours", (await response.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail());
    }
}
