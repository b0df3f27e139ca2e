using PostService.Storage;

namespace PostService.Firehose;

public static class FirehoseRegistration
{
    /// <summary>The consumer's parts and the zero-call hydrator (the service and the CLI); the hosted consumer only when enabled.</summary>
    public static IServiceCollection AddFirehose(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<FirehoseOptions>().Bind(configuration.GetSection(FirehoseOptions.Section))
            .ValidateDataAnnotations()
            .Validate(options => Uri.TryCreate(options.Url, UriKind.Absolute, out var uri) && uri.Scheme is "ws" or "wss",
                "PostService:Firehose:Url must be a ws:// or wss:// URL.")
            .ValidateOnStart();
        services.AddPerStore<IFirehoseRowWriter, SqliteFirehoseRowWriter, PostgresFirehoseRowWriter>(configuration);
        services.AddSingleton<FirehoseStore>();
        services.AddSingleton<FirehoseStatus>();
        services.AddSingleton<FirehoseConsumer>();
        services.AddSingleton<FirehoseHandleResolver>();
        services.AddSingleton<FirehoseHydrator>();
        return services;
    }

    /// <summary>The hosted consumer, when <c>PostService:Firehose:Enabled</c> is true.</summary>
    public static IServiceCollection AddFirehoseWorker(this IServiceCollection services, IConfiguration configuration)
    {
        if (configuration.GetSection(FirehoseOptions.Section).GetValue(nameof(FirehoseOptions.Enabled), false))
        {
            services.AddHostedService<FirehoseWorker>();
        }
        return services;
    }
}
