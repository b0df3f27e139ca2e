using System.Runtime.InteropServices;
using PostService.Storage;
using PostService.Storage.Migrations;

namespace PostService.Cli;

/// <summary>
/// What a verb that runs for a while (hydrate, firehose, backfill-repos) does first: Ctrl+C and SIGTERM cancel <see cref="Stopping"/>
/// instead of ending the process, so the verb can stop cleanly; then the services are built and the pending migrations
/// applied, as the service applies them at start.
/// </summary>
internal sealed class ForegroundVerb : IDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;

    private ForegroundVerb(CancellationTokenSource stop, IHost host, string store)
    {
        (_stop, Host, Store) = (stop, host, store);
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
    }

    public IHost Host { get; }

    /// <summary>The database, for messages: the file given, or the configured store's description.</summary>
    public string Store { get; }

    public CancellationToken Stopping => _stop.Token;

    public bool StopRequested => _stop.IsCancellationRequested;

    public static async Task<ForegroundVerb> StartAsync(string? database, CliEnvironment environment, CancellationToken cancellationToken)
    {
        var host = CliHost.Build(database, environment);
        var verb = new ForegroundVerb(CancellationTokenSource.CreateLinkedTokenSource(cancellationToken), host,
            database ?? host.Services.GetRequiredService<IDbConnectionFactory>().Description);
        try
        {
            var migration = await host.Services.GetRequiredService<Migrator>().MigrateAsync(verb.Stopping);
            if (migration.Applied.Count > 0)
            {
                await environment.Output.WriteLineAsync(
                    $"Migrated {verb.Store} first ({migration.Applied.Count} steps){(migration.BackupPath is { } backup ? $"; backup: {backup}" : "")}.");
            }
        }
        catch
        {
            verb.Dispose();
            throw;
        }
        return verb;
    }

    private void Stop(PosixSignalContext signal)
    {
        signal.Cancel = true;
        _stop.Cancel();
    }

    public void Dispose()
    {
        _interrupt.Dispose();
        _terminate.Dispose();
        Host.Dispose();
        _stop.Dispose();
    }
}
