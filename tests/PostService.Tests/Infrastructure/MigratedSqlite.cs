using Dapper;
using Microsoft.Extensions.DependencyInjection;
using PostService.Storage;
using PostService.Storage.Migrations;

namespace PostService.Tests.Infrastructure;

/// <summary>A real SQLite file, migrated, with the core services over it: for repository-level tests without a host.</summary>
public sealed class MigratedSqlite : IAsyncLifetime
{
    private readonly string _directory = TempDirectory.Create();
    private ServiceProvider? _services;

    public IServiceProvider Services => _services ?? throw new InvalidOperationException("Not initialized.");

    public async Task InitializeAsync()
    {
        _services = CoreServices.For(Path.Combine(_directory, "compliance.db"));
        await _services.GetRequiredService<Migrator>().MigrateAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }
        TempDirectory.Delete(_directory);
    }

    /// <summary>Writes <paramref name="sql"/> through the service's own connection factory.</summary>
    public Task ExecuteAsync(string sql, object? parameters = null) =>
        Services.GetRequiredService<IDbConnectionFactory>().WriteAsync(
            (connection, transaction) => connection.ExecuteAsync(sql, parameters, transaction), CancellationToken.None);

    public async Task<T?> QuerySingleAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = await Services.GetRequiredService<IDbConnectionFactory>().OpenAsync(CancellationToken.None);
        return await connection.QuerySingleOrDefaultAsync<T>(sql, parameters);
    }
}
