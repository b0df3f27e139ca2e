using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace PostService.Tests.Infrastructure;

/// <summary>
/// Checks every exchange of the tests' clients against the OpenAPI document the service serves: the status must be
/// declared for the operation, with the content type it came with, and a JSON body must match the declared schema
/// (types, enums, required members); a request the service accepted must match the declared request body. A mismatch
/// fails the test that made the request. Requests for routes the document does not describe are not checked.
/// </summary>
public sealed class OpenApiConformanceHandler : DelegatingHandler
{
    private const string DocumentPath = "/openapi/v1.json";

    // The document is the same for every service of the suite; the first one that serves it is asked.
    private static JsonNode? _document;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var requestBody = request.Content is { Headers.ContentType.MediaType: var type } content && IsJson(type)
            ? await content.ReadAsStringAsync(cancellationToken)
            : null;
        var response = await base.SendAsync(request, cancellationToken);
        var path = request.RequestUri!.AbsolutePath;
        if (path.StartsWith("/openapi/", StringComparison.Ordinal) || await DocumentAsync(request.RequestUri, cancellationToken) is not { } document)
        {
            return response;
        }
        var responseBody = IsJson(response.Content.Headers.ContentType?.MediaType) ? await response.Content.ReadAsStringAsync(cancellationToken) : null;
        if (OpenApiConformance.Violation(document, request.Method.Method, path, requestBody, response, responseBody) is { } violation)
        {
            throw new InvalidOperationException($"{request.Method} {request.RequestUri.PathAndQuery} answered {(int)response.StatusCode} against openapi.yaml: {violation}");
        }
        return response;
    }

    private async Task<JsonNode?> DocumentAsync(Uri requestUri, CancellationToken cancellationToken)
    {
        if (_document is null)
        {
            using var response = await base.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(requestUri, DocumentPath)), cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                _document = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            }
        }
        return _document;
    }

    private static bool IsJson(string? mediaType) => mediaType is not null && (mediaType == "application/json" || mediaType.EndsWith("+json", StringComparison.Ordinal));
}

public static partial class OpenApiConformance
{
    /// <summary>What is wrong with the exchange, or null when it conforms or the document does not describe the route.</summary>
    public static string? Violation(JsonNode document, string method, string path, string? requestBody, HttpResponseMessage response, string? responseBody)
    {
        if (FindOperation(document, method, path) is not { } operation)
        {
            return null;
        }
        var status = ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (operation["responses"]?[status] is not { } declared)
        {
            return $"status {status} is not declared (declared: {string.Join(", ", operation["responses"]!.AsObject().Select(item => item.Key))})";
        }
        if (response.IsSuccessStatusCode && requestBody is not null
            && operation["requestBody"]?["content"]?["application/json"]?["schema"] is { } requestSchema
            && Mismatch(document, JsonNode.Parse(requestBody), requestSchema, "request", checkRequired: false) is { } requestMismatch)
        {
            return $"the accepted request does not match its schema: {requestMismatch}";
        }
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        var content = declared["content"]?.AsObject();
        if (mediaType is null || response.Content.Headers.ContentLength == 0)
        {
            return null;
        }
        if (content is null || !content.ContainsKey(mediaType))
        {
            return $"content type {mediaType} is not declared for {status} (declared: {string.Join(", ", content?.Select(item => item.Key) ?? [])})";
        }
        return responseBody is not null && content[mediaType]?["schema"] is { } schema
            && Mismatch(document, JsonNode.Parse(responseBody), schema, "body", checkRequired: true) is { } mismatch
            ? $"the body does not match its schema: {mismatch}"
            : null;
    }

    /// <summary>The operation whose path template matches: literal templates first, then one whose last parameter takes the rest.</summary>
    private static JsonNode? FindOperation(JsonNode document, string method, string path)
    {
        path = path.Length > 1 ? path.TrimEnd('/') : path;
        var templates = document["paths"]!.AsObject();
        foreach (var greedy in (bool[])[false, true])
        {
            foreach (var (template, item) in templates.OrderBy(entry => entry.Key.Count(character => character == '{')))
            {
                if (TemplatePattern(template, greedy).IsMatch(path))
                {
                    return item?[method.ToLowerInvariant()];
                }
            }
        }
        return null;
    }

    private static Regex TemplatePattern(string template, bool lastTakesRest)
    {
        var pattern = Parameter().Replace(Regex.Escape(template).Replace(@"\{", "{", StringComparison.Ordinal), "[^/]+");
        if (lastTakesRest && pattern.EndsWith("[^/]+", StringComparison.Ordinal))
        {
            pattern = pattern[..^"[^/]+".Length] + ".+";
        }
        return new Regex("^" + pattern + "$");
    }

    private static string? Mismatch(JsonNode document, JsonNode? value, JsonNode schema, string at, bool checkRequired)
    {
        if (schema["$ref"]?.GetValue<string>() is { } reference)
        {
            schema = document["components"]!["schemas"]![reference["#/components/schemas/".Length..]]!;
        }
        if ((schema["oneOf"] ?? schema["anyOf"]) is JsonArray choices)
        {
            return choices.Any(choice => Mismatch(document, value, choice!, at, checkRequired) is null) ? null : $"{at} matches none of its alternatives";
        }
        var kind = KindOf(value);
        var types = schema["type"] switch
        {
            JsonArray many => many.Select(type => type!.GetValue<string>()).ToList(),
            JsonValue one => [one.GetValue<string>()],
            _ => null,
        };
        if (types is not null && !types.Contains(kind) && !(kind == "integer" && types.Contains("number")))
        {
            return $"{at} is {kind}, declared {string.Join(" or ", types)}";
        }
        if (schema["enum"] is JsonArray allowed && value is not null && !allowed.Any(option => JsonNode.DeepEquals(option, value)))
        {
            return $"{at} is {value.ToJsonString()}, not one of {allowed.ToJsonString()}";
        }
        if (value is JsonObject members)
        {
            foreach (var required in checkRequired ? schema["required"]?.AsArray() ?? [] : [])
            {
                if (!members.ContainsKey(required!.GetValue<string>()))
                {
                    return $"{at}.{required} is required but missing";
                }
            }
            foreach (var (name, member) in members)
            {
                var memberSchema = schema["properties"]?[name] ?? schema["additionalProperties"] as JsonObject;
                if (memberSchema is not null && Mismatch(document, member, memberSchema, $"{at}.{name}", checkRequired) is { } mismatch)
                {
                    return mismatch;
                }
            }
        }
        if (value is JsonArray items && schema["items"] is { } itemSchema)
        {
            for (var index = 0; index < items.Count; index++)
            {
                if (Mismatch(document, items[index], itemSchema, $"{at}[{index}]", checkRequired) is { } mismatch)
                {
                    return mismatch;
                }
            }
        }
        return null;
    }

    private static string KindOf(JsonNode? value) => value switch
    {
        null => "null",
        JsonObject => "object",
        JsonArray => "array",
        _ => value.GetValueKind() switch
        {
            System.Text.Json.JsonValueKind.String => "string",
            System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False => "boolean",
            System.Text.Json.JsonValueKind.Number => decimal.TryParse(value.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture, out var number)
                && number == decimal.Truncate(number) && !value.ToJsonString().Contains('.', StringComparison.Ordinal) ? "integer" : "number",
            _ => "null",
        },
    };

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex Parameter();
}
