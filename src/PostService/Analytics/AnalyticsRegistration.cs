using PostService.Hydration;

namespace PostService.Analytics;

public static class AnalyticsRegistration
{
    /// <summary>Engagement snapshots, hashtags and author handles taken at hydration, hashtag statistics, and the queries over them.</summary>
    public static IServiceCollection AddAnalytics(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AnalyticsOptions>().Bind(configuration.GetSection(AnalyticsOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<MetricSnapshots>();
        services.AddSingleton<IHydratedPostsHandler>(provider => provider.GetRequiredService<MetricSnapshots>());
        services.AddSingleton<IHydratedPostsHandler, HashtagIndexer>();
        services.AddSingleton<IHydratedPostsHandler, AuthorHandles>();
        services.AddSingleton<VelocityQuery>();
        services.AddSingleton<TombstoneTrendQuery>();
        services.AddSingleton<HashtagStats>();
        services.AddSingleton<TrendingQuery>();
        services.AddSingleton<HashtagPostsQuery>();
        return services;
    }
}
