using System.Reflection;
using Microsoft.AspNetCore.Http.HttpResults;

namespace PostService.Dashboard;

/// <summary>
/// <c>GET /dashboard</c>: one self-contained HTML page (inline CSS, vanilla JS drawing SVG) that reads the hydration
/// endpoints from the browser. Embedded in the assembly, so it needs no content root, static files or network.
/// </summary>
public static class DashboardEndpoints
{
    private const string PageResource = "PostService.Dashboard.dashboard.html";

    // The page may talk to this service only: no CDN, fonts, frames or forms elsewhere.
    private const string ContentSecurityPolicy =
        "default-src 'none'; connect-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly Lazy<byte[]> Page = new(LoadPage);

    public static IEndpointRouteBuilder MapDashboardEndpoints(this IEndpointRouteBuilder routes)
    {
        // Not part of the API: kept out of the OpenAPI document.
        routes.MapGet("/dashboard", Dashboard).ExcludeFromDescription();
        return routes;
    }

    public static FileContentHttpResult Dashboard(HttpResponse response)
    {
        response.Headers.CacheControl = "no-cache";
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        return TypedResults.File(Page.Value, "text/html; charset=utf-8");
    }

    private static byte[] LoadPage()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(PageResource)
            ?? throw new InvalidOperationException($"The embedded resource {PageResource} is missing from the build.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
