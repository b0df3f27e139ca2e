using Microsoft.Extensions.Http.Resilience;
using Polly;
using PostService.Upstream.Budget;
using Refit;

namespace PostService.Upstream;

/// <summary>
/// How one upstream's calls are made resilient: retried (transport failures, timeouts, 5xx, 408, 429), each attempt
/// waiting for the per-host budget when there is one, then timed.
/// </summary>
public sealed record XrpcPipeline(int MaxRetries, TimeSpan RetryBaseDelay, TimeSpan AttemptTimeout, HostCallBudget? Budget = null);

public static class XrpcClients
{
    // A call holds its caller while it waits; longer outages are for a later retry of the work, not of the call.
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    // A 429 without Retry-After or RateLimit-Reset pauses the host a minute; none pauses it over an hour.
    private static readonly RetryAfterRule HostPause = new(TimeSpan.FromMinutes(1), TimeSpan.FromHours(1));

    /// <summary>
    /// Registers the named HttpClient <paramref name="name"/> with its own resilience pipeline: retry, then the host's call
    /// budget, then the attempt timeout. Refit clients are made on it per use by <see cref="XrpcClientFactory"/>.
    /// </summary>
    public static IHttpClientBuilder AddXrpcClient(
        this IServiceCollection services, string name, Func<IServiceProvider, XrpcPipeline> pipeline, Func<IServiceProvider, Uri?>? baseAddress = null)
    {
        services.AddHttpClient();
        services.AddSingleton<XrpcClientFactory>();
        var builder = services.AddHttpClient(name, (provider, http) =>
        {
            // The pipeline times each attempt; HttpClient's own 100 s default would cut across retries.
            http.Timeout = Timeout.InfiniteTimeSpan;
            if (baseAddress?.Invoke(provider) is { } address)
            {
                http.BaseAddress = address;
            }
        });
        builder.AddResilienceHandler(name, (resilience, context) =>
        {
            var settings = pipeline(context.ServiceProvider);
            if (settings.MaxRetries > 0)
            {
                resilience.AddRetry(new HttpRetryStrategyOptions
                {
                    MaxRetryAttempts = settings.MaxRetries,
                    Delay = settings.RetryBaseDelay,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    MaxDelay = MaxRetryDelay,
                    // The budget honours Retry-After for every caller of the host; a retry waits for the budget.
                    ShouldRetryAfterHeader = false,
                });
            }
            if (settings.Budget is { } budget)
            {
                resilience.AddRateLimiter(new HttpRateLimiterStrategyOptions
                {
                    RateLimiter = arguments => budget.AcquireAsync(
                        arguments.Context.GetRequestMessage()?.RequestUri?.Authority ?? "", arguments.Context.CancellationToken),
                });
            }
            resilience.AddTimeout(settings.AttemptTimeout);
        });
        builder.AddHttpMessageHandler(provider => pipeline(provider).Budget is { } budget
            ? new HostBudgetObserver(budget, HostPause, provider.GetRequiredService<TimeProvider>())
            : new PassThroughHandler());
        return builder;
    }

    private sealed class PassThroughHandler : DelegatingHandler;
}

/// <summary>
/// Makes a Refit client on a named HttpClient for one use; the host can differ per call (each DID names its own PDS).
/// Nothing holds a client for longer than its call, so the factory's handler rotation applies.
/// </summary>
public sealed class XrpcClientFactory(IHttpClientFactory httpClients)
{
    public T Create<T>(string clientName, Uri? baseAddress = null)
    {
        var http = httpClients.CreateClient(clientName);
        if (baseAddress is not null)
        {
            http.BaseAddress = baseAddress;
        }
        return RestService.For<T>(http);
    }
}
