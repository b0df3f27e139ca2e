using PostService.Storage;

namespace PostService.Ingestion;

public static class IngestionRegistration
{
    /// <summary>Storing retrievals in the configured database's store and logging their bodies: for the service, and for <c>replay</c>.</summary>
    public static IServiceCollection AddIngestion(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<IngestionOptions>().Bind(configuration.GetSection(IngestionOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddPerStore<IRetrievalStore, SqliteRetrievalStore, PostgresRetrievalStore>(configuration);
        services.AddSingleton<RetrievalIngestor>();
        services.AddSingleton<IngestEventLog>();
        return services;
    }
}
