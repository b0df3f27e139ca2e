using Microsoft.Extensions.Options;
using PostService.Upstream;
using PostService.Upstream.AppView;
using PostService.Upstream.Budget;
using PostService.Upstream.Identity;
using PostService.Upstream.Pds;

namespace PostService.Identity;

public static class IdentityRegistration
{
    /// <summary>DID and handle resolution, the PDS client with its per-host budget, and the explanation of not-found posts.</summary>
    public static IServiceCollection AddIdentity(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<IdentityOptions>().Bind(configuration.GetSection(IdentityOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddKeyedSingleton(IPdsApi.ClientName, (provider, _) =>
        {
            var options = Options(provider);
            return new HostCallBudget(options.PdsBudgetCalls, TimeSpan.FromSeconds(options.PdsBudgetWindowSeconds),
                TimeSpan.FromSeconds(options.MaxBudgetWaitSeconds), provider.GetRequiredService<TimeProvider>());
        });

        services.AddXrpcClient(IPdsApi.ClientName, provider => Pipeline(provider, provider.GetRequiredKeyedService<HostCallBudget>(IPdsApi.ClientName)));
        services.AddXrpcClient(IPlcDirectoryApi.ClientName, provider => Pipeline(provider), provider => new Uri(Options(provider).PlcUrl));
        services.AddXrpcClient(IDidWebApi.ClientName, provider => Pipeline(provider));
        services.AddXrpcClient(IHandleResolutionApi.ClientName, provider => Pipeline(provider), provider => new Uri(
            Options(provider).HandleResolverUrl is { Length: > 0 } resolver ? resolver : provider.GetRequiredService<IOptions<AppViewOptions>>().Value.BaseUrl));

        services.AddSingleton<IdentityResolver>();
        services.AddSingleton<IdentityRepository>();
        services.AddSingleton<AuthorHandlesRepository>();
        services.AddSingleton<NotFoundExplainer>();
        services.AddSingleton<NotFoundQueue>();
        services.AddSingleton<HandleUriResolver>();
        return services;
    }

    /// <summary>The background explanation of not-found posts and retry of <c>unknown</c> reasons, where the service hydrates.</summary>
    public static IServiceCollection AddNotFoundExplanationWorker(this IServiceCollection services)
    {
        services.AddHostedService<NotFoundExplanationWorker>();
        return services;
    }

    private static IdentityOptions Options(IServiceProvider provider) => provider.GetRequiredService<IOptions<IdentityOptions>>().Value;

    private static XrpcPipeline Pipeline(IServiceProvider provider, HostCallBudget? budget = null)
    {
        var options = Options(provider);
        return new XrpcPipeline(options.MaxRetries, TimeSpan.FromMilliseconds(options.RetryBaseDelayMs),
            TimeSpan.FromSeconds(options.AttemptTimeoutSeconds), budget);
    }
}
