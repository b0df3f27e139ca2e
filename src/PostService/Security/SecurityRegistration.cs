namespace PostService.Security;

/// <summary>API keys and inbound rate limits (correlation ids come first in the pipeline: <see cref="CorrelationId"/>).</summary>
public static class SecurityRegistration
{
    public static WebApplicationBuilder AddPostServiceSecurity(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<ApiKeyRing>();
        builder.Services.AddClientRateLimiting();
        return builder;
    }

    /// <summary>The rate limiter, and a word at start on who may write.</summary>
    public static WebApplication UsePostServiceSecurity(this WebApplication app)
    {
        app.UseRateLimiter();
        var keys = app.Services.GetRequiredService<ApiKeyRing>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ApiAccess).FullName!);
        if (keys.IsConfigured)
        {
            logger.LogInformation("{Count} API keys configured: writes and admin actions need one in {Header}", keys.Count, ApiKeyRing.HeaderName);
        }
        else
        {
            logger.LogWarning(
                "No API key is configured (PostService__Auth__ApiKeys__0): POST /feed-retrievals and POST /hydrate are accepted from loopback clients only");
        }
        return app;
    }
}
