using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using PostService.Firehose;
using PostService.Storage;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Telemetry;

/// <summary>What Prometheus scrapes from <c>/metrics</c> after an ingest and a hydration against the loopback AppView.</summary>
[Collection(ProcessWideTelemetry.Name)]
public abstract partial class MetricsTests(DatabaseProvider provider) : IAsyncLifetime
{
    public sealed class OnSqlite() : MetricsTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgres() : MetricsTests(DatabaseProvider.Postgres), IRunsOnPostgres;

    private FakeAppView _appView = null!;

    public async Task InitializeAsync() => _appView = await FakeAppView.StartAsync();

    public async Task DisposeAsync() => await _appView.DisposeAsync();

    [DatabaseFact]
    public async Task MetricsShowTheIngestTheHydrationAndTheServicesState()
    {
        _appView.AddPost(RetrievalBuilder.PostUri("alive1"));
        _appView.AddPost(RetrievalBuilder.PostUri("alive2"));
        using var service = HydratingService.Start(_appView, new Dictionary<string, string?> { ["PostService:Telemetry:BacklogSampleSeconds"] = "1" },
            provider: provider);
        var client = service.CreateClient();

        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder()
            .WithPost(RetrievalBuilder.PostUri("alive1"), 0).WithPost(RetrievalBuilder.PostUri("alive2"), 1).WithPost(RetrievalBuilder.PostUri("gone"), 2)))).EnsureSuccessStatusCode();
        await Eventually.TrueAsync(() => service.Count("SELECT count(*) FROM posts WHERE hydration_status IN ('ok', 'not_found')") == 3, "all three posts are settled");

        var metrics = "";
        await Eventually.TrueAsync(() =>
        {
            metrics = client.GetStringAsync("/metrics").GetAwaiter().GetResult();
            // The call's slot is given back after its posts are written, a moment after they are settled.
            return Value(metrics, "postservice_hydration_backlog") == 0 && Value(metrics, "postservice_appview_calls_in_flight") == 0;
        }, "the backlog gauge has counted the settled posts and the last call has ended");

        Assert.Equal(2, Value(metrics, "postservice_hydration_posts_total", "status=\"ok\""));
        Assert.Equal(1, Value(metrics, "postservice_hydration_posts_total", "status=\"not_found\""));
        Assert.Equal(_appView.Calls.Count, Value(metrics, "postservice_appview_budget_used"));
        Assert.Equal(3000, Value(metrics, "postservice_appview_budget_limit"));
        Assert.Equal(0, Value(metrics, "postservice_appview_calls_in_flight"));
        Assert.Equal(0, Value(metrics, "postservice_appview_rate_limited_total"));
        Assert.Equal(1, Value(metrics, "http_server_request_duration_seconds_count", "http_route=\"/feed-retrievals\""));
        Assert.Equal(_appView.Calls.Count, Value(metrics, "http_client_request_duration_seconds_count", "http_response_status_code=\"200\""));
        Assert.NotNull(Value(metrics, "dotnet_gc_heap_total_allocated_bytes_total"));
        Assert.NotNull(Value(metrics, "kestrel_active_connections") ?? Value(metrics, "kestrel_queued_connections"));
        if (provider == DatabaseProvider.Postgres)
        {
            Assert.True(Value(metrics, "db_client_operation_duration_seconds_count") > 0, metrics);
        }
    }

    [Fact]
    public async Task MetricsShowHowFarTheFirehoseIsBehindLive()
    {
        using var service = new PostServiceFactory();
        var client = service.CreateClient();
        var before = await client.GetStringAsync("/metrics");

        var status = service.Services.GetRequiredService<FirehoseStatus>();
        status.Applied(5, cursor: 42, lastEventTime: DateTimeOffset.UtcNow.AddMinutes(-2));
        // The exporter answers a scrape from its cache for a moment.
        var metrics = "";
        await Eventually.TrueAsync(() =>
        {
            metrics = client.GetStringAsync("/metrics").GetAwaiter().GetResult();
            return Value(metrics, "postservice_firehose_lag_seconds") is not null;
        }, "the scrape shows the applied events");

        Assert.Null(Value(before, "postservice_firehose_lag_seconds"));
        Assert.InRange(Value(metrics, "postservice_firehose_lag_seconds") ?? 0, 120, 3600);
        Assert.Equal(5, Value(metrics, "postservice_firehose_events_applied_total"));
    }

    [Fact]
    public async Task MetricsNeedTheApiKeyWhenReadsDo()
    {
        const string Key = "metrics-test-key-0123456789";
        using var service = new PostServiceFactory(new Dictionary<string, string?>
        {
            ["PostService:Auth:ApiKeys:0"] = Key,
            ["PostService:Auth:RequireKeyForReads"] = "true",
        });

        var refused = await service.CreateClient().GetAsync("/metrics");
        var answered = await service.CreateClient(Key).GetAsync("/metrics");

        await refused.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        Assert.Contains("postservice_appview_budget_limit", await answered.Content.ReadAsStringAsync());
    }

    /// <summary>The sum of the series named <paramref name="name"/> whose labels include <paramref name="label"/>; null when there is none.</summary>
    private static double? Value(string metrics, string name, string label = "")
    {
        var values = metrics.Split('\n')
            .Select(line => Series().Match(line))
            .Where(match => match.Success && match.Groups["name"].Value == name && match.Groups["labels"].Value.Contains(label, StringComparison.Ordinal))
            .Select(match => double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture))
            .ToList();
        return values.Count == 0 ? null : values.Sum();
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>\S+)")]
    private static partial Regex Series();
}
