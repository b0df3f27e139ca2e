using Microsoft.Extensions.Options;
using PostService.Hydration;

namespace PostService.Tagging;

public static class TaggingRegistration
{
    /// <summary>Tags on posts, and the rules applied at hydration (<c>PostService:Tagging</c>).</summary>
    public static IServiceCollection AddTagging(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<TaggingOptions>().Bind(configuration.GetSection(TaggingOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TaggingOptions>, TaggingOptionsValidator>();
        services.AddSingleton<TagRuleSet>();
        services.AddSingleton<TagsRepository>();
        services.AddSingleton<IHydratedPostsHandler, RuleTagger>();
        return services;
    }
}
