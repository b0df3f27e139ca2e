using PostService.Endpoints;
using PostService.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddPostService();

var app = builder.Build();
app.UsePostServiceApi();
app.MapHealthEndpoints();
app.MapFeedRetrievalsEndpoints();
app.MapFeedRequestsEndpoints();
app.MapPostsEndpoints();
app.MapHydrationEndpoints();
app.MapDashboardEndpoints();

app.Run();

/// <summary>Visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
