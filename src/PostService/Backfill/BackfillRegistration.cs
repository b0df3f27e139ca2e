namespace PostService.Backfill;

public static class BackfillRegistration
{
    /// <summary>The repository backfill the service and the CLI share.</summary>
    public static IServiceCollection AddRepoBackfill(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<BackfillOptions>().Bind(configuration.GetSection(BackfillOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<BackfillRepository>();
        services.AddSingleton<RepoDownloader>();
        services.AddSingleton<RepoBackfiller>();
        services.AddSingleton<BackfillSignal>();
        return services;
    }

    /// <summary>The service's worker for jobs enqueued through the API, unless <c>PostService:Backfill:Enabled</c> is false.</summary>
    public static IServiceCollection AddRepoBackfillWorker(this IServiceCollection services, IConfiguration configuration)
    {
        if (configuration.GetSection(BackfillOptions.Section).GetValue(nameof(BackfillOptions.Enabled), true))
        {
            services.AddHostedService<RepoBackfillWorker>();
        }
        return services;
    }
}
