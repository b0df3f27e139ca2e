using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace PostService.Security;

/// <summary>
/// Declares the <c>X-Api-Key</c> scheme (Swagger UI's Authorize button) and puts it on the operations that
/// <see cref="ApiAccessConventions.WithApiAccess{TBuilder}"/> guards: required for writes, optional for reads
/// (an empty alternative), since reads need it only where <c>RequireKeyForReads</c> is set.
/// </summary>
public static class ApiKeyOpenApi
{
    private const string SchemeName = "ApiKey";

    public static OpenApiOptions AddApiKeySecurity(this OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[SchemeName] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ApiKeyRing.HeaderName,
                Description = "Required for writes and admin actions when the service has keys configured " +
                              "(PostService__Auth__ApiKeys__0); required for reads too when PostService__Auth__RequireKeyForReads is true.",
            };
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            if (context.Description.ActionDescriptor.EndpointMetadata.OfType<ApiAccess>().Cast<ApiAccess?>().LastOrDefault() is { } access)
            {
                var requirement = new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SchemeName, context.Document)] = [] };
                operation.Security = access == ApiAccess.Write ? [requirement] : [requirement, new OpenApiSecurityRequirement()];
            }
            return Task.CompletedTask;
        });
        return options;
    }
}
