using System.Text.Json;
using PostService.Upstream.Budget;

namespace PostService.Upstream.AppView;

public static class AppViewRegistration
{
    /// <summary>
    /// Registers <see cref="IAppViewClient"/> (transient, like the Refit client it wraps) with options from
    /// <see cref="AppViewOptions.Section"/> and the call budget every attempt takes a permit from.
    /// </summary>
    public static IServiceCollection AddAppViewClient(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddRateBudget(configuration);
        services.AddUpstreamApi<IAppViewApi, AppViewOptions>(configuration, new UpstreamApi("appview", AppViewOptions.Section, AppViewJsonContext.Default)
        {
            Budget = provider => provider.GetRequiredService<RateBudget>(),
            IsUsableBody = HasPostsAsync,
        });
        services.AddTransient<IAppViewClient, AppViewClient>();
        return services;
    }

    /// <summary>A getPosts body is usable when it parses and has a <c>posts</c> array.</summary>
    private static async ValueTask<bool> HasPostsAsync(HttpContent content, CancellationToken cancellationToken)
    {
        // The content is buffered: its stream is one MemoryStream, rewound for the caller's own read.
        var body = await content.ReadAsStreamAsync(cancellationToken);
        try
        {
            var parsed = await JsonSerializer.DeserializeAsync(body, AppViewJsonContext.Default.GetPostsResponse, cancellationToken);
            return parsed?.Posts is not null;
        }
        catch (JsonException)
        {
            return false;
        }
        finally
        {
            body.Position = 0;
        }
    }
}
