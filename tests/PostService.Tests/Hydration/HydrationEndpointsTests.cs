using System.Text.Json;
using PostService.Storage;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Hydration;

public abstract class HydrationEndpointsTests(DatabaseProvider provider) : IDisposable
{
    public sealed class OnSqlite() : HydrationEndpointsTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgres() : HydrationEndpointsTests(DatabaseProvider.Postgres), IRunsOnPostgres;

    private readonly PostServiceFactory _service = new(provider: provider);

    public void Dispose() => _service.Dispose();

    [DatabaseFact]
    public async Task CoverageWithoutAnyFailureHasAnEmptyTrend()
    {
        (await _service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPosts(2)))).EnsureSuccessStatusCode();

        var coverage = await _service.CreateClient().GetOkJsonAsync("/hydration/coverage");

        Assert.Equal(2, coverage.GetProperty("total_posts").GetInt64());
        Assert.Equal(2, coverage.GetProperty("by_status").GetProperty("pending").GetInt64());
        Assert.Equal(JsonValueKind.Array, coverage.GetProperty("failure_trend").ValueKind);
        Assert.Empty(coverage.GetProperty("failure_trend").EnumerateArray());
    }
}
