using PostService.Hosting;
using PostService.Ingestion;
using PostService.Storage.Migrations;

namespace PostService.Bench;

/// <summary>The service's own registrations over a database, without the web server.</summary>
public static class BenchHost
{
    public static Task<IHost> StartAsync(string databasePath, IDictionary<string, string?>? settings = null) =>
        StartAsync(new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>())
        {
            ["PostService:Database:Path"] = databasePath,
        });

    /// <summary>The core registrations and the ingestor, configured by <paramref name="settings"/> (configuration keys).</summary>
    public static async Task<IHost> StartAsync(IDictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        // The fake AppView's authors have no PDS or DID document: asking why a post was left out would only time out
        // against the real PLC directory, as in the tests (HydratingService).
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["PostService:Identity:ExplainNotFound"] = "false" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddPostServiceCore(builder.Configuration);
        builder.Services.AddIngestion(builder.Configuration);
        var host = builder.Build();
        await host.Services.GetRequiredService<Migrator>().MigrateAsync(CancellationToken.None);
        return host;
    }

    public static string NewDatabasePath()
    {
        var directory = Path.Combine(Path.GetTempPath(), "postservice-bench", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return Path.Combine(directory, "compliance.db");
    }

    public static void PrintFigures(params (string Key, object Value)[] figures) =>
        Console.WriteLine(string.Join(' ', figures.Select(f => $"{f.Key}={Convert.ToString(f.Value, System.Globalization.CultureInfo.InvariantCulture)}")));
}
