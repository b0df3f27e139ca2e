using PostService.Hydration;

namespace PostService.Analytics;

public static class AnalyticsRegistration
{
    /// <summary>Engagement snapshots taken at hydration, and the queries over them.</summary>
    public static IServiceCollection AddAnalytics(this IServiceCollection services)
    {
        services.AddSingleton<MetricSnapshots>();
        services.AddSingleton<IHydratedPostsHandler>(provider => provider.GetRequiredService<MetricSnapshots>());
        services.AddSingleton<VelocityQuery>();
        return services;
    }
}
