using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.RateLimiting;
using Polly.Retry;
using Polly.Telemetry;
using Polly.Timeout;
using Refit;

namespace PostService.Upstream;

public static class UpstreamRegistration
{
    /// <summary>A call holds its caller's slot while it waits; longer outages are for the caller to retry later.</summary>
    private static readonly TimeSpan LongestRetryDelay = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Registers the Refit interface <typeparamref name="TApi"/> (transient, from the HttpClient factory) with its
    /// options and ONE resilience pipeline: retry outermost, then a permit from the upstream's budget if it has one,
    /// then the attempt timeout, which therefore starts only once the permit is granted. Inside each attempt the
    /// <c>RateLimit-*</c> headers are recorded and the body is read.
    /// </summary>
    public static IHttpClientBuilder AddUpstreamApi<TApi, TOptions>(this IServiceCollection services, IConfiguration configuration, UpstreamApi upstream)
        where TApi : class
        where TOptions : UpstreamOptions
    {
        services.AddOptions<TOptions>().Bind(configuration.GetSection(upstream.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        // An attempt timing out or a permit refused for a long pause is a fault the pipeline or its caller handles:
        // Polly's telemetry would log them as errors.
        services.Configure<TelemetryOptions>(telemetry => telemetry.SeverityProvider = args =>
            args.Event.Severity == ResilienceEventSeverity.Error ? ResilienceEventSeverity.Warning : args.Event.Severity);

        var client = services
            // The generated client: Refit's reflection request builder is a separate package, and not needed.
            .AddRefitGeneratedClient<TApi>(new RefitSettings { ContentSerializer = SystemTextJsonContentSerializer.ForContext(upstream.Json) })
            .ConfigureHttpClient((provider, http) =>
            {
                http.BaseAddress = new Uri(OptionsOf<TOptions>(provider).BaseUrl);
                // The pipeline times each attempt; HttpClient's own 100 s default would cut across retries.
                http.Timeout = Timeout.InfiniteTimeSpan;
            })
            // Connections are renewed, so DNS changes reach long-running processes.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) });
        client.AddResilienceHandler(upstream.Name, (pipeline, context) =>
            BuildPipeline(pipeline, OptionsOf<TOptions>(context.ServiceProvider), upstream.Budget?.Invoke(context.ServiceProvider), upstream.IsUsableBody));
        client.AddHttpMessageHandler(provider => new RateLimitFeedbackHandler(
            upstream.Budget?.Invoke(provider), OptionsOf<TOptions>(provider).RetryAfter, provider.GetRequiredService<TimeProvider>()));
        client.AddHttpMessageHandler(() => new BufferedContentHandler());
        return client;
    }

    private static void BuildPipeline(
        ResiliencePipelineBuilder<HttpResponseMessage> pipeline,
        UpstreamOptions options,
        System.Threading.RateLimiting.RateLimiter? budget,
        Func<HttpContent, CancellationToken, ValueTask<bool>>? isUsableBody)
    {
        // Polly rejects MaxRetryAttempts = 0, so "no retries" means no retry strategy at all.
        if (options.MaxRetries > 0)
        {
            pipeline.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = options.MaxRetries,
                Delay = TimeSpan.FromMilliseconds(options.RetryBaseDelayMs),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                MaxDelay = LongestRetryDelay,
                ShouldHandle = args => IsTransientAsync(args.Outcome, isUsableBody, args.Context.CancellationToken),
                OnRetry = args =>
                {
                    if (args.Context.GetRequestMessage() is { } request)
                    {
                        UpstreamCall.RecordRetry(request, args.AttemptNumber + 1);
                    }
                    return default;
                },
            });
        }
        if (budget is not null)
        {
            // A refused permit (a pause longer than calls wait) ends the call with RateLimiterRejectedException and its RetryAfter.
            pipeline.AddRateLimiter(new RateLimiterStrategyOptions
            {
                RateLimiter = args => budget.AcquireAsync(1, args.Context.CancellationToken),
            });
        }
        pipeline.AddTimeout(options.AttemptTimeout);
    }

    /// <summary>
    /// Connection failures, timeouts, 5xx and unusable 2xx bodies. Not 400 or 429: the same request would be rejected
    /// again, and 429 is the caller's cue to reschedule rather than ours to sleep.
    /// </summary>
    private static async ValueTask<bool> IsTransientAsync(
        Outcome<HttpResponseMessage> outcome, Func<HttpContent, CancellationToken, ValueTask<bool>>? isUsableBody, CancellationToken cancellationToken)
    {
        if (outcome.Exception is HttpRequestException or TimeoutRejectedException)
        {
            return true;
        }
        if (outcome.Result is not { } response)
        {
            return false;
        }
        if ((int)response.StatusCode >= 500)
        {
            return true;
        }
        return response.IsSuccessStatusCode && isUsableBody is not null && !await isUsableBody(response.Content, cancellationToken);
    }

    private static TOptions OptionsOf<TOptions>(IServiceProvider provider) where TOptions : class =>
        provider.GetRequiredService<IOptions<TOptions>>().Value;
}
