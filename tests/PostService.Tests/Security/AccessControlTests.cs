using System.Net;
using System.Net.Http.Json;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Security;

public sealed class AccessControlTests
{
    private const string Key = "bot-key-0123456789abcdef";
    private const string SecondKey = "rotated-key-fedcba9876543210";
    private static readonly IPAddress RemoteClient = IPAddress.Parse("203.0.113.7");

    private static PostServiceFactory WithKeys(bool requireKeyForReads = false, IPAddress? client = null) => new(new Dictionary<string, string?>
    {
        ["PostService:Auth:ApiKeys:0"] = Key,
        ["PostService:Auth:ApiKeys:1"] = SecondKey,
        ["PostService:Auth:RequireKeyForReads"] = requireKeyForReads ? "true" : "false",
    })
    { ClientAddress = client ?? IPAddress.Loopback };

    [Theory]
    [InlineData(Key)]
    [InlineData(SecondKey)]
    public async Task EveryConfiguredKeyMayWrite(string key)
    {
        using var service = WithKeys(client: RemoteClient);

        var response = await service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPosts(1)), service.CreateClient(key));

        await response.AssertOkJsonAsync();
        Assert.Equal(1, service.Count("SELECT count(*) FROM feed_requests"));
    }

    [Theory]
    [InlineData(null, "API key required")]
    [InlineData("", "API key required")]
    [InlineData("bot-key-0123456789abcdeX", "Invalid API key")]
    [InlineData("bot-key", "Invalid API key")]
    [InlineData(Key + "0", "Invalid API key")]
    public async Task WritingWithoutAValidKeyIsA401ProblemAndStoresNothing(string? key, string title)
    {
        using var service = WithKeys();
        var client = service.CreateClient(key);

        var write = await service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPosts(1)), client);
        var hydrate = await client.PostAsync("/hydrate", null);

        foreach (var response in new[] { write, hydrate })
        {
            var problem = await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
            Assert.Equal(title, problem.GetProperty("title").GetString());
            Assert.Equal("ApiKey header=\"X-Api-Key\"", response.Headers.WwwAuthenticate.ToString());
        }
        Assert.Equal(0, service.Count("SELECT count(*) FROM feed_requests"));
    }

    [Fact]
    public async Task TheKeyIsNeverLogged()
    {
        using var service = WithKeys();

        await service.CreateClient(Key).PostAsync("/feed-retrievals", RetrievalBuilder.Batch(new RetrievalBuilder().WithPosts(1)).AsJson());
        await service.CreateClient(Key + "wrong").PostAsync("/feed-retrievals", RetrievalBuilder.Batch(new RetrievalBuilder().WithPosts(1)).AsJson());

        Assert.Contains(service.Logs.Entries, entry => entry.Message.Contains("Refused POST /feed-retrievals"));
        Assert.DoesNotContain(service.Logs.Entries, entry => entry.ToString().Contains("key-0123456789") || entry.ToString().Contains("fedcba9876"));
    }

    [Fact]
    public async Task ReadsAreOpenByDefaultEvenWhenKeysAreConfigured()
    {
        using var service = WithKeys(client: RemoteClient);

        await service.CreateClient().GetOkJsonAsync("/posts");
        await service.CreateClient().GetOkJsonAsync("/hydration/coverage");
        await service.CreateClient().GetOkJsonAsync("/feed-requests");
    }

    [Fact]
    public async Task ReadsCanBeMadeToRequireAKey()
    {
        using var service = WithKeys(requireKeyForReads: true, client: RemoteClient);

        foreach (var path in new[] { "/posts", "/posts/at://did:plc:a/app.bsky.feed.post/x", "/feed-requests/1", "/hydration/coverage", "/hydration/stats" })
        {
            await (await service.CreateClient().GetAsync(path)).AssertProblemAsync(HttpStatusCode.Unauthorized);
        }
        await service.CreateClient(SecondKey).GetOkJsonAsync("/posts");
        // Probes and the API description stay open.
        await service.CreateClient().GetOkJsonAsync("/healthz");
        await service.CreateClient().GetOkJsonAsync("/openapi/v1.json");
    }

    [Fact]
    public void RequiringKeysForReadsWithoutAnyKeyStopsTheServiceAtStart()
    {
        using var service = new PostServiceFactory(new Dictionary<string, string?> { ["PostService:Auth:RequireKeyForReads"] = "true" });

        var error = Assert.ThrowsAny<Exception>(() => service.CreateClient());

        Assert.Contains("RequireKeyForReads", error.ToString());
    }

    [Fact]
    public void AShortKeyStopsTheServiceAtStartWithoutShowingIt()
    {
        using var service = new PostServiceFactory(new Dictionary<string, string?> { ["PostService:Auth:ApiKeys:0"] = "hunter2" });

        var error = Assert.ThrowsAny<Exception>(() => service.CreateClient());

        Assert.Contains("PostService:Auth:ApiKeys:0 must be at least 16 characters", error.ToString());
        Assert.DoesNotContain("hunter2", error.ToString());
    }

    [Fact]
    public async Task WithoutKeysARemoteClientMayReadButNotWriteAndGetsA403()
    {
        using var service = new PostServiceFactory { ClientAddress = RemoteClient };

        var write = await service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPosts(1)));
        var hydrate = await service.CreateClient().PostAsync("/hydrate", null);

        Assert.Contains("loopback", (await write.AssertProblemAsync(HttpStatusCode.Forbidden)).Detail());
        await hydrate.AssertProblemAsync(HttpStatusCode.Forbidden);
        await service.CreateClient().GetOkJsonAsync("/posts");
        Assert.Equal(0, service.Count("SELECT count(*) FROM feed_requests"));
    }

    [Fact]
    public void WithoutKeysTheServiceWarnsAtStartThatOnlyLoopbackClientsMayWrite()
    {
        using var service = new PostServiceFactory();
        using var withKeys = WithKeys();

        service.CreateClient();
        withKeys.CreateClient();

        Assert.Contains(service.Logs.Entries, entry => entry.Level == LogLevel.Warning && entry.Message.Contains("loopback clients only"));
        Assert.DoesNotContain(withKeys.Logs.Entries, entry => entry.Message.Contains("loopback clients only"));
        Assert.Contains(withKeys.Logs.Entries, entry => entry.Message.Contains("2 API keys configured"));
    }

    [Fact]
    public async Task WithoutKeysAClientOnARealLoopbackSocketMayWrite()
    {
        using var service = new PostServiceFactory();
        var baseUrl = service.StartOnLoopback();
        using var client = new HttpClient { BaseAddress = new Uri(baseUrl) };

        var response = await client.PostAsJsonAsync("/feed-retrievals", RetrievalBuilder.Batch(new RetrievalBuilder().WithPosts(1)));

        await response.AssertOkJsonAsync();
    }

    [NonLoopbackAddressFact]
    public async Task WithoutKeysAClientReachingANetworkAddressIsRefusedOverARealSocket()
    {
        using var service = new PostServiceFactory();
        var baseUrl = service.StartOn(NonLoopbackAddressFactAttribute.Address!);
        using var client = new HttpClient { BaseAddress = new Uri(baseUrl) };

        var write = await client.PostAsJsonAsync("/feed-retrievals", RetrievalBuilder.Batch(new RetrievalBuilder().WithPosts(1)));
        var read = await client.GetAsync("/posts");

        await write.AssertProblemAsync(HttpStatusCode.Forbidden);
        await read.AssertOkJsonAsync();
        Assert.Equal(0, service.Count("SELECT count(*) FROM feed_requests"));
    }

    [NonLoopbackAddressFact]
    public async Task WithKeysAClientReachingANetworkAddressWritesWithItsKeyOverARealSocket()
    {
        using var service = WithKeys();
        var baseUrl = service.StartOn(NonLoopbackAddressFactAttribute.Address!);
        using var client = new HttpClient { BaseAddress = new Uri(baseUrl) };
        client.DefaultRequestHeaders.Add("X-Api-Key", Key);

        var response = await client.PostAsJsonAsync("/feed-retrievals", RetrievalBuilder.Batch(new RetrievalBuilder().WithPosts(1)));

        await response.AssertOkJsonAsync();
    }
}

/// <summary>A test that needs an IPv4 address of this machine other than loopback; skipped on a machine without one.</summary>
public sealed class NonLoopbackAddressFactAttribute : FactAttribute
{
    public static readonly IPAddress? Address = NetworkInterface.GetAllNetworkInterfaces()
        .Where(network => network.OperationalStatus == OperationalStatus.Up && network.NetworkInterfaceType != NetworkInterfaceType.Loopback)
        .SelectMany(network => network.GetIPProperties().UnicastAddresses)
        .Select(unicast => unicast.Address)
        .FirstOrDefault(address => address.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(address));

    public NonLoopbackAddressFactAttribute()
    {
        if (Address is null)
        {
            Skip = "This machine has no IPv4 address other than loopback to connect to.";
        }
    }
}
