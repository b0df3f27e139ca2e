using Microsoft.Extensions.Options;
using PostService.Storage.Migrations;

namespace PostService.Storage;

/// <summary>Brings the schema up to date before the service accepts requests or hydrates anything.</summary>
public sealed class DatabaseMigrationService(Migrator migrator, IOptions<DatabaseOptions> options) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.MigrateOnStart)
        {
            await migrator.MigrateAsync(cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
