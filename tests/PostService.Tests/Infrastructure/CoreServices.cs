using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PostService.Hosting;

namespace PostService.Tests.Infrastructure;

/// <summary>The services the web host and the CLI share, over one database file, without any host around them.</summary>
public static class CoreServices
{
    public static ServiceProvider For(string databasePath, IDictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>()) { ["PostService:Database:Path"] = databasePath };
        return For(all);
    }

    /// <summary>Over the database and options <paramref name="settings"/> name (configuration keys), logging to <paramref name="logs"/> when given.</summary>
    public static ServiceProvider For(IReadOnlyDictionary<string, string?> settings, ILoggerProvider? logs = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection()
            .AddLogging(logging =>
            {
                if (logs is not null)
                {
                    logging.AddProvider(logs);
                }
            })
            .AddPostServiceCore(configuration).BuildServiceProvider();
    }
}
