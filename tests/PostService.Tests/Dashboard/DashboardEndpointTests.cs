using System.Net;
using System.Text.RegularExpressions;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Dashboard;

public sealed partial class DashboardEndpointTests : IDisposable
{
    private readonly PostServiceFactory _service = new();

    public void Dispose() => _service.Dispose();

    [Fact]
    public async Task TheDashboardIsOneSelfContainedHtmlPage()
    {
        var response = await _service.CreateClient().GetAsync("/dashboard");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        Assert.StartsWith("<!doctype html>", html);
        // Behind a firewall nothing may come from elsewhere: no external script, style, font, image or link.
        Assert.Empty(ExternalReference().Matches(html));
        Assert.Contains("connect-src 'self'", string.Join(";", response.Headers.GetValues("Content-Security-Policy")));
        Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task TheDashboardIsNotPartOfTheApiDocument()
    {
        var document = await _service.CreateClient().GetStringAsync("/openapi/v1.json");

        Assert.DoesNotContain("/dashboard", document);
    }

    // src/href/url(...) or @import pointing at another host; the SVG namespace URI is an identifier, not a request.
    [GeneratedRegex("""(?:src|href|action)\s*=\s*["']?(?:https?:)?//|url\(\s*["']?(?:https?:)?//|@import""", RegexOptions.IgnoreCase)]
    private static partial Regex ExternalReference();
}
