using Microsoft.Extensions.DependencyInjection.Extensions;
using PostService.Storage;

namespace PostService.Upstream.Budget;

public static class RateBudgetRegistration
{
    /// <summary>
    /// Registers the AppView call budget, chosen once by <c>PostService:Database:Provider</c>: on PostgreSQL the
    /// replicas share it, on SQLite the process is alone.
    /// </summary>
    public static IServiceCollection AddRateBudget(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RateBudgetOptions>().Bind(configuration.GetSection(RateBudgetOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        if (DatabaseOptions.ProviderOf(configuration) == DatabaseProvider.Postgres)
        {
            services.TryAddSingleton<AppViewCallLog>();
            services.TryAddSingleton<RateBudget, SharedRateBudget>();
        }
        else
        {
            services.TryAddSingleton<RateBudget, LocalRateBudget>();
        }
        return services;
    }
}
