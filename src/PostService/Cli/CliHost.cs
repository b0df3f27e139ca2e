using Microsoft.Extensions.Logging.Console;
using PostService.Exports;
using PostService.Hosting;
using PostService.Storage;

namespace PostService.Cli;

/// <summary>
/// The services the web service runs on (database, migrations, repositories, hydration) for one database, without
/// Kestrel or the background worker. It is never started: the verbs call the services themselves.
/// </summary>
internal static class CliHost
{
    /// <param name="databasePath">A SQLite file given with <c>--db</c>; null for the configured database.</param>
    /// <param name="addServices">Services a verb needs beyond the core ones.</param>
    public static IHost Build(string? databasePath, CliEnvironment environment, Action<IServiceCollection, IConfiguration>? addServices = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(environment.Settings);
        if (databasePath is null && DatabaseOptions.ProviderOf(builder.Configuration) != DatabaseProvider.Postgres)
        {
            // A verb never creates a SQLite file, so it must be told which one.
            throw new CliUsageException("Option '--db' is required unless the configured database is PostgreSQL (PostService__Database__Provider=Postgres).");
        }
        if (databasePath is not null)
        {
            builder.Configuration.AddInMemoryCollection([
                new($"{DatabaseOptions.Section}:{nameof(DatabaseOptions.Path)}", databasePath),
                new($"{DatabaseOptions.Section}:{nameof(DatabaseOptions.Provider)}", nameof(DatabaseProvider.Sqlite)),
            ]);
        }
        // The verbs print what matters on stdout. Logs go to stderr, so that stdout stays machine-readable (report --json):
        // warnings and errors, or only errors under a progress bar, which every log line tears.
        var least = environment.Interactive ? LogLevel.Error : LogLevel.Warning;
        builder.Logging.ClearProviders()
            .AddConsole(options => options.LogToStandardErrorThreshold = LogLevel.Trace)
            .AddFilter<ConsoleLoggerProvider>(level => level >= least);
        builder.Services.AddPostServiceCore(builder.Configuration);
        builder.Services.AddExports(builder.Configuration);
        addServices?.Invoke(builder.Services, builder.Configuration);
        return builder.Build();
    }

    /// <summary>The same, for the configured PostgreSQL database with this connection string.</summary>
    public static IHost BuildForPostgres(string connectionString, CliEnvironment environment, Action<IServiceCollection, IConfiguration>? addServices = null) =>
        Build(null, environment with
        {
            Settings = new Dictionary<string, string?>(environment.Settings)
            {
                [$"{DatabaseOptions.Section}:{nameof(DatabaseOptions.Provider)}"] = nameof(DatabaseProvider.Postgres),
                [$"ConnectionStrings:{DatabaseOptions.ConnectionStringName}"] = connectionString,
            },
        }, addServices);

    /// <summary>
    /// For a database named on the command line: a PostgreSQL connection string (it has <c>=</c> in it), else a SQLite
    /// file path; null for the configured database.
    /// </summary>
    public static IHost BuildFor(string? database, CliEnvironment environment, Action<IServiceCollection, IConfiguration>? addServices = null) =>
        database is not null && database.Contains('=', StringComparison.Ordinal)
            ? BuildForPostgres(database, environment, addServices)
            : Build(database is null ? null : Path.GetFullPath(database), environment, addServices);
}

/// <summary>The command line does not say enough to run the verb; the message says what is missing.</summary>
internal sealed class CliUsageException(string message) : Exception(message);
