using PostService.Storage.Migrations;

namespace PostService.Storage;

public static class StorageRegistration
{
    /// <summary>
    /// Registers <typeparamref name="TSqlite"/> or <typeparamref name="TPostgres"/> as <typeparamref name="TService"/>,
    /// by the configured store: where the two stores need different code, it is chosen here, once, at start.
    /// </summary>
    public static IServiceCollection AddPerStore<TService, TSqlite, TPostgres>(this IServiceCollection services, IConfiguration configuration)
        where TService : class
        where TSqlite : class, TService
        where TPostgres : class, TService =>
        DatabaseOptions.ProviderOf(configuration) == DatabaseProvider.Postgres
            ? services.AddSingleton<TService, TPostgres>()
            : services.AddSingleton<TService, TSqlite>();

    /// <summary>The connection factory and the migrations of the configured store, and the migration at start.</summary>
    public static IServiceCollection AddStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DatabaseOptions>().Bind(configuration.GetSection(DatabaseOptions.Section))
            .Configure(options => options.ConnectionString ??= configuration.GetConnectionString(DatabaseOptions.ConnectionStringName))
            .ValidateDataAnnotations()
            .Validate(options => options.Provider != DatabaseProvider.Postgres || !string.IsNullOrWhiteSpace(options.ConnectionString),
                $"PostService:Database:Provider is Postgres but no connection string is set: set ConnectionStrings__{DatabaseOptions.ConnectionStringName}.")
            .ValidateOnStart();
        services.AddPerStore<IDbConnectionFactory, SqliteConnectionFactory, PostgresConnectionFactory>(configuration);
        services.AddPerStore<ISchemaStore, SqliteSchemaStore, PostgresSchemaStore>(configuration);
        services.AddSingleton<IMigration, M001_CoreTables>();
        services.AddSingleton<IMigration, M002_HydrationColumns>();
        services.AddSingleton<IMigration, M003_PostsFromServedUris>();
        services.AddSingleton<IMigration, M004_FeedRequestsReceivedAt>();
        services.AddSingleton<IMigration, M005_RebuildFeedRequestPosts>();
        services.AddSingleton<IMigration, M006_PostCounts>();
        services.AddSingleton<IMigration, M007_HydrationClaims>();
        services.AddSingleton<IMigration, M008_PostCountsByWriters>();
        services.AddSingleton<IMigration, M009_IdentityAndRepositories>();
        services.AddSingleton<IMigration, M010_Firehose>();
        services.AddSingleton<IMigration, M011_Analytics>();
        services.AddSingleton<IMigration, M012_AuthorHandles>();
        services.AddSingleton<IMigration, M013_RefreshSchedule>();
        services.AddSingleton<IMigration, M014_ServedRowsByPostId>();
        services.AddSingleton<IMigration, M015_StatusIndexInStorageOrder>();
        services.AddSingleton<SqliteBackup>();
        services.AddSingleton<Migrator>();
        services.AddSingleton<LegacyAuthorColumns>();
        services.AddHostedService<DatabaseMigrationService>();
        return services;
    }
}
