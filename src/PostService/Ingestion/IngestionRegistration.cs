using PostService.Storage;

namespace PostService.Ingestion;

public static class IngestionRegistration
{
    /// <summary>The ingestor and the retrieval store of the configured database.</summary>
    public static IServiceCollection AddIngestion(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<IngestionOptions>().Bind(configuration.GetSection(IngestionOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddPerStore<IRetrievalStore, SqliteRetrievalStore, PostgresRetrievalStore>(configuration);
        services.AddSingleton<RetrievalIngestor>();
        return services;
    }
}
