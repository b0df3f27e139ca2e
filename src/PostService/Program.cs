using PostService.Analytics;
using PostService.Cli;
using PostService.Dashboard;
using PostService.FeedRequests;
using PostService.Hosting;
using PostService.Hydration;
using PostService.Ingestion;
using PostService.Posts;
using PostService.Tagging;

// No verb, or `serve`: the web service below. `migrate`, `hydrate` and `report` work on a database file and exit (Cli/).
return await PostServiceCli.RunAsync(args, new CliEnvironment(ServeAsync));

static async Task<int> ServeAsync(string[] args)
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddPostService();

    var app = builder.Build();
    app.UsePostServiceApi();
    app.MapHealthEndpoints();
    app.MapFeedRetrievalsEndpoints();
    app.MapFeedRequestsEndpoints();
    app.MapPostsEndpoints();
    app.MapTagsEndpoints();
    app.MapMetricsEndpoints();
    app.MapHashtagsEndpoints();
    app.MapHydrationEndpoints();
    app.MapDashboardEndpoints();

    await app.RunAsync();
    return 0;
}

/// <summary>Visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
