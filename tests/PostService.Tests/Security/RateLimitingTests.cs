using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Security;

public sealed class RateLimitingTests : IDisposable
{
    private const string FirstKey = "first-client-key-0123456789";
    private const string SecondKey = "second-client-key-0123456789";

    private readonly PostServiceFactory _service = new(new Dictionary<string, string?>
    {
        ["PostService:RateLimit:ReadsPerWindow"] = "3",
        ["PostService:RateLimit:WritesPerWindow"] = "2",
        ["PostService:RateLimit:WindowSeconds"] = "3600",
        ["PostService:Auth:ApiKeys:0"] = FirstKey,
        ["PostService:Auth:ApiKeys:1"] = SecondKey,
    });

    public void Dispose() => _service.Dispose();

    [Fact]
    public async Task AClientOverItsReadLimitGetsA429ProblemWithRetryAfterWhileAnotherClientIsServed()
    {
        var first = _service.CreateClient(FirstKey);
        for (var i = 0; i < 3; i++)
        {
            await first.GetOkJsonAsync("/posts");
        }

        var refused = await first.GetAsync("/feed-requests");

        var problem = await refused.AssertProblemAsync(HttpStatusCode.TooManyRequests);
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("correlation_id").GetString()));
        var retryAfter = refused.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value.TotalSeconds, 1, 3600);
        await _service.CreateClient(SecondKey).GetOkJsonAsync("/posts");
        await _service.CreateClient().GetOkJsonAsync("/posts");
        // Writes are counted apart from reads.
        await (await _service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPosts(1)), first)).AssertOkJsonAsync();
    }

    [Fact]
    public async Task AClientOverItsWriteLimitGetsA429AndNothingMoreIsStored()
    {
        var client = _service.CreateClient(FirstKey);
        for (var i = 0; i < 2; i++)
        {
            (await _service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPosts(1)), client)).EnsureSuccessStatusCode();
        }

        var refused = await _service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPosts(1)), client);

        await refused.AssertProblemAsync(HttpStatusCode.TooManyRequests);
        Assert.Equal(2, _service.Count("SELECT count(*) FROM feed_requests"));
        await client.GetOkJsonAsync("/posts");
    }

    [Fact]
    public async Task ClientsWithoutAKeyAreCountedByAddressAndAMadeUpKeyBuysNoFreshAllowance()
    {
        var crowded = IPAddress.Parse("198.51.100.1");
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(StatusCodes.Status200OK, (await GetPostsFrom(crowded, key: null)).Response.StatusCode);
        }

        var again = await GetPostsFrom(crowded, key: null);
        var madeUpKey = await GetPostsFrom(crowded, key: "made-up-key-" + Guid.NewGuid());
        var elsewhere = await GetPostsFrom(IPAddress.Parse("198.51.100.2"), key: null);

        Assert.Equal(StatusCodes.Status429TooManyRequests, again.Response.StatusCode);
        Assert.Equal(StatusCodes.Status429TooManyRequests, madeUpKey.Response.StatusCode);
        Assert.Equal("application/problem+json", again.Response.ContentType);
        Assert.Equal(429, JsonDocument.Parse(again.Response.Body).RootElement.GetProperty("status").GetInt32());
        Assert.Equal(StatusCodes.Status200OK, elsewhere.Response.StatusCode);
    }

    private async Task<HttpContext> GetPostsFrom(IPAddress address, string? key) => await _service.Server.SendAsync(context =>
    {
        context.Request.Method = HttpMethods.Get;
        context.Request.Path = "/posts";
        context.Connection.RemoteIpAddress = address;
        if (key is not null)
        {
            context.Request.Headers["X-Api-Key"] = key;
        }
    });
}
