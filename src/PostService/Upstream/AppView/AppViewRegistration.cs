using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PostService.Upstream.Budget;

namespace PostService.Upstream.AppView;

public static class AppViewRegistration
{
    /// <summary>Registers <see cref="IAppViewClient"/> with options from <see cref="AppViewOptions.Section"/>.</summary>
    public static IServiceCollection AddAppViewClient(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AppViewOptions>()
            .Bind(configuration.GetSection(AppViewOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<RateBudget>();

        services.AddHttpClient<IAppViewClient, AppViewClient>((provider, http) =>
        {
            http.BaseAddress = new Uri(provider.GetRequiredService<IOptions<AppViewOptions>>().Value.BaseUrl);
            // The client's resilience pipeline times each attempt; HttpClient's own 100 s default would
            // otherwise cut across retries.
            http.Timeout = Timeout.InfiniteTimeSpan;
        });
        return services;
    }
}
