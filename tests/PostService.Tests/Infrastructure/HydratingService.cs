using PostService.Storage;

namespace PostService.Tests.Infrastructure;

/// <summary>A service with its hydration worker on, talking to an AppView on loopback (fake or real), with short test timings.</summary>
public static class HydratingService
{
    public static Dictionary<string, string?> Settings(FakeAppView appView, IDictionary<string, string?>? overrides = null) =>
        Settings(appView.BaseUrl, overrides);

    public static Dictionary<string, string?> Settings(string appViewBaseUrl, IDictionary<string, string?>? overrides = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["PostService:Hydration:Enabled"] = "true",
            ["PostService:Hydration:LingerMs"] = "20",
            ["PostService:Hydration:SweepIntervalSeconds"] = "1",
            ["PostService:Hydration:RetryBackoffSeconds"] = "1",
            ["PostService:AppView:BaseUrl"] = appViewBaseUrl,
            ["PostService:AppView:RetryBaseDelayMs"] = "5",
            ["PostService:AppView:MaxRetries"] = "2",
            ["PostService:AppView:AttemptTimeoutSeconds"] = "2",
            // Fake AppView posts have fake DIDs: no PDS to ask why one is missing (the Identity tests turn it on).
            ["PostService:Identity:ExplainNotFound"] = "false",
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }
        return settings;
    }

    public static PostServiceFactory Start(FakeAppView appView, IDictionary<string, string?>? overrides = null, TestDatabase? database = null,
        DatabaseProvider provider = DatabaseProvider.Sqlite) =>
        Start(appView.BaseUrl, overrides, database, provider);

    public static PostServiceFactory Start(string appViewBaseUrl, IDictionary<string, string?>? overrides = null, TestDatabase? database = null,
        DatabaseProvider provider = DatabaseProvider.Sqlite)
    {
        var service = new PostServiceFactory(Settings(appViewBaseUrl, overrides), database, provider);
        service.StartServer();
        return service;
    }
}
