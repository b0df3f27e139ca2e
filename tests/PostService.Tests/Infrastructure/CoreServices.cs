using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PostService.Hosting;

namespace PostService.Tests.Infrastructure;

/// <summary>The services the web host and the CLI share, over one database file, without any host around them.</summary>
public static class CoreServices
{
    public static ServiceProvider For(string databasePath, IDictionary<string, string?>? settings = null)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["PostService:Database:Path"] = databasePath })
            .AddInMemoryCollection(settings ?? new Dictionary<string, string?>())
            .Build();
        return new ServiceCollection().AddLogging().AddPostServiceCore(configuration).BuildServiceProvider();
    }
}
