namespace PostService.Ingestion;

public static class IngestionRegistration
{
    /// <summary>Storing retrievals and logging their bodies: for the service, and for <c>replay</c>.</summary>
    public static IServiceCollection AddIngestion(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<IngestionOptions>().Bind(configuration.GetSection(IngestionOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<RetrievalWriter>();
        services.AddSingleton<RetrievalIngestor>();
        services.AddSingleton<IngestEventLog>();
        return services;
    }
}
