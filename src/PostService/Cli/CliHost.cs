using Microsoft.Extensions.Logging.Console;
using PostService.Hosting;
using PostService.Options;

namespace PostService.Cli;

/// <summary>
/// The services the web service runs on (database, migrations, repositories, hydration) for one database file, without
/// Kestrel or the background worker. It is never started: the verbs call the services themselves.
/// </summary>
internal static class CliHost
{
    public static IHost Build(string databasePath, CliEnvironment environment)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration
            .AddInMemoryCollection(environment.Settings)
            .AddInMemoryCollection([new($"{DatabaseOptions.Section}:{nameof(DatabaseOptions.Path)}", databasePath)]);
        // The verbs print what matters on stdout. Logs go to stderr, so that stdout stays machine-readable (report --json):
        // warnings and errors, or only errors under a progress bar, which every log line tears.
        var least = environment.Interactive ? LogLevel.Error : LogLevel.Warning;
        builder.Logging.ClearProviders()
            .AddConsole(options => options.LogToStandardErrorThreshold = LogLevel.Trace)
            .AddFilter<ConsoleLoggerProvider>(level => level >= least);
        builder.Services.AddPostServiceCore(builder.Configuration);
        return builder.Build();
    }
}
