using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Hosting;

/// <summary>The check every test exchange goes through finds what the document does not declare.</summary>
public sealed class OpenApiConformanceTests
{
    private static readonly JsonNode Document = JsonNode.Parse("""
        {
          "paths": {
            "/things/{id}": { "get": { "responses": {
              "200": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Thing" } } } },
              "404": { "content": { "application/problem+json": { "schema": { "type": "object" } } } } } } }
          },
          "components": { "schemas": { "Thing": {
            "type": "object", "required": ["count", "status"],
            "properties": { "count": { "type": "integer" }, "status": { "type": "string", "enum": ["ok", "gone"] } } } } }
        }
        """)!;

    [Theory]
    [InlineData(HttpStatusCode.OK, "application/json", """{"count": 3, "status": "ok"}""", null)]
    [InlineData(HttpStatusCode.NotFound, "application/problem+json", """{"title": "no"}""", null)]
    [InlineData(HttpStatusCode.BadRequest, "application/problem+json", """{"title": "no"}""", "status 400 is not declared")]
    [InlineData(HttpStatusCode.OK, "text/plain", "3", "content type text/plain is not declared")]
    [InlineData(HttpStatusCode.OK, "application/json", """{"count": "3", "status": "ok"}""", "body.count is string, declared integer")]
    [InlineData(HttpStatusCode.OK, "application/json", """{"count": 3.5, "status": "ok"}""", "body.count is number, declared integer")]
    [InlineData(HttpStatusCode.OK, "application/json", """{"count": 3, "status": "lost"}""", "body.status is \"lost\", not one of")]
    [InlineData(HttpStatusCode.OK, "application/json", """{"status": "ok"}""", "body.count is required but missing")]
    public void AnExchangeIsCheckedAgainstItsOperation(HttpStatusCode status, string contentType, string body, string? violation)
    {
        using var response = new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, contentType) };

        var found = OpenApiConformance.Violation(Document, "GET", "/things/7", null, response, contentType.EndsWith("json", StringComparison.Ordinal) ? body : null);

        if (violation is null)
        {
            Assert.Null(found);
        }
        else
        {
            Assert.Contains(violation, found);
        }
    }

    [Fact]
    public void RoutesTheDocumentDoesNotDescribeAreNotChecked()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.NotFound);

        Assert.Null(OpenApiConformance.Violation(Document, "GET", "/elsewhere", null, response, null));
    }

    [Fact]
    public async Task TheServedDocumentIsReadAsTheCheckExpects()
    {
        using var service = new PostServiceFactory();
        var document = JsonNode.Parse(await service.CreateClient().GetStringAsync("/openapi/v1.json"))!;
        using var teapot = new HttpResponseMessage((HttpStatusCode)418);

        Assert.Contains("status 418 is not declared", OpenApiConformance.Violation(document, "GET", "/posts/at://did:plc:x/app.bsky.feed.post/1", null, teapot, null));
        Assert.Contains("status 418 is not declared", OpenApiConformance.Violation(document, "GET", "/exports/exposures.parquet", null, teapot, null));
        Assert.Contains("status 418 is not declared", OpenApiConformance.Violation(document, "GET", "/feed-requests/12", null, teapot, null));
        Assert.Contains("status 418 is not declared", OpenApiConformance.Violation(document, "POST", "/feed-retrievals", null, teapot, null));
    }
}
