using PostService.Backfill;
using PostService.Analytics;
using PostService.Cli;
using PostService.Dashboard;
using PostService.Exports;
using PostService.Engagements;
using PostService.FeedRequests;
using PostService.Firehose;
using PostService.Hosting;
using PostService.Hydration;
using PostService.Ingestion;
using PostService.Posts;
using PostService.Telemetry;
using PostService.Tagging;

// No verb, or `serve`: the web service below. The other verbs (migrate, hydrate, report, copy, export, healthcheck) do one thing and exit (Cli/).
return await PostServiceCli.RunAsync(args, new CliEnvironment(ServeAsync));

static async Task<int> ServeAsync(string[] args)
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddPostService();
    builder.Services.AddExports(builder.Configuration);
    builder.AddTelemetry();

    var app = builder.Build();
    app.UsePostServiceApi();
    app.MapHealthEndpoints();
    app.MapFeedRetrievalsEndpoints();
    app.MapFeedRequestsEndpoints();
    app.MapPostsEndpoints();
    app.MapTagsEndpoints();
    app.MapMetricsEndpoints();
    app.MapTombstonesEndpoints();
    app.MapHashtagsEndpoints();
    app.MapAuthorHandlesEndpoints();
    app.MapHydrationEndpoints();
    app.MapBackfillEndpoints();
    app.MapEngagementsEndpoints();
    app.MapFirehose();
    app.MapDashboardEndpoints();
    app.MapExports();
    app.MapTelemetry();

    await app.RunAsync();
    return 0;
}

/// <summary>Visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
