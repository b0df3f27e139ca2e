using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace PostService.Security;

/// <summary>What an endpoint does, which decides who may call it and which rate limit it counts against.</summary>
public enum ApiAccess
{
    /// <summary>Open unless <see cref="AuthOptions.RequireKeyForReads"/>; counted against the read limit.</summary>
    Read,

    /// <summary>Writes and admin actions: a valid key, or a loopback client when no key is configured.</summary>
    Write,
}

public static class ApiAccessConventions
{
    /// <summary>
    /// Checks the caller's access before the handler runs and applies the rate limit of <paramref name="access"/>;
    /// the metadata also puts the security requirement and the 401/403/429 answers into the OpenAPI document.
    /// </summary>
    public static TBuilder WithApiAccess<TBuilder>(this TBuilder builder, ApiAccess access) where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(access);
        builder.AddEndpointFilter(new ApiKeyFilter(access));
        builder.RequireRateLimiting(ClientRateLimiting.PolicyFor(access));
        int[] refusals = access == ApiAccess.Write
            ? [StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status429TooManyRequests]
            : [StatusCodes.Status401Unauthorized, StatusCodes.Status429TooManyRequests];
        foreach (var status in refusals)
        {
            builder.WithMetadata(new ProducesResponseTypeMetadata(status, typeof(ProblemDetails), ["application/problem+json"]));
        }
        return builder;
    }

    /// <summary>
    /// The problem to answer instead of running an endpoint of <paramref name="access"/>, or null when the caller may go
    /// on. For endpoints that are not route handlers (the metrics scrape), which endpoint filters do not reach.
    /// </summary>
    public static IResult? RefusalFor(HttpContext http, ApiAccess access)
    {
        var refusal = Check(http, access);
        if (refusal is null)
        {
            return null;
        }
        http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ApiAccess).FullName!).LogWarning(
            "Refused {Method} {Path} from {Client}: {Status} {Reason}",
            http.Request.Method, http.Request.Path, ClientAddress.Describe(http), refusal.StatusCode, refusal.Title);
        if (refusal.StatusCode == StatusCodes.Status401Unauthorized)
        {
            http.Response.Headers.WWWAuthenticate = $"ApiKey header=\"{ApiKeyRing.HeaderName}\"";
        }
        return TypedResults.Problem(statusCode: refusal.StatusCode, title: refusal.Title, detail: refusal.Detail);
    }

    private sealed class ApiKeyFilter(ApiAccess access) : IEndpointFilter
    {
        public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
            RefusalFor(context.HttpContext, access) ?? await next(context);
    }

    private sealed record Refusal(int StatusCode, string Title, string Detail);

    /// <summary>
    /// 401 when keys are configured and the request has none that is valid (sending one would help); 403 when no key
    /// is configured and the client is not on this machine (no key can help: the operator has to configure one).
    /// </summary>
    private static Refusal? Check(HttpContext http, ApiAccess access)
    {
        var options = http.RequestServices.GetRequiredService<IOptions<AuthOptions>>().Value;
        if (access == ApiAccess.Read && !options.RequireKeyForReads)
        {
            return null;
        }
        var keys = http.RequestServices.GetRequiredService<ApiKeyRing>();
        if (keys.IsConfigured)
        {
            if (keys.Match(http.Request) is not null)
            {
                return null;
            }
            return http.Request.Headers.ContainsKey(ApiKeyRing.HeaderName)
                ? new Refusal(StatusCodes.Status401Unauthorized, "Invalid API key", $"The {ApiKeyRing.HeaderName} header does not carry a valid key.")
                : new Refusal(StatusCodes.Status401Unauthorized, "API key required", $"Send a valid API key in the {ApiKeyRing.HeaderName} header.");
        }
        return ClientAddress.IsLoopback(http)
            ? null
            : new Refusal(StatusCodes.Status403Forbidden, "Writes are accepted from this machine only",
                "No API key is configured, so writes and admin actions are accepted from loopback clients only; " +
                "the operator can configure keys with PostService__Auth__ApiKeys__0.");
    }
}
