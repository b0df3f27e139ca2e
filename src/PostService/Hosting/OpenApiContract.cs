using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using PostService.Analytics;
using PostService.Atproto;
using PostService.Backfill;
using PostService.Engagements;
using PostService.Hydration;
using PostService.Identity;
using PostService.Posts;
using PostService.Security;

namespace PostService.Hosting;

/// <summary>
/// What the OpenAPI document says beyond the endpoints' own metadata, so that it describes the service exactly:
/// problems carry <c>correlation_id</c>, any operation can fail with 500, and statuses are closed sets.
/// </summary>
public static class OpenApiContract
{
    private const string ProblemSchema = "ProblemDetails";

    // String properties whose values are a closed set, by the type that declares them and their JSON name.
    private static readonly Dictionary<(Type, string), IReadOnlyList<string>> ClosedSets = new()
    {
        [(typeof(PostRecord), "hydration_status")] = HydrationStatus.All,
        [(typeof(FeedRequests.ServedPost), "hydration_status")] = HydrationStatus.All,
        [(typeof(HealthEndpoints.HealthStatus), "status")] = ["up", "ready"],
        [(typeof(PostRecord), "not_found_reason")] = NotFoundReason.All,
        [(typeof(StoredMedia), "kind")] = MediaKinds.All,
        [(typeof(BackfillJob), "status")] = BackfillStatus.All,
        [(typeof(Engagement), "engagement_type")] = Engagement.Types,
        [(typeof(MetricSnapshot), "source")] = MetricSnapshot.Sources,
    };

    // Query parameters whose values are a closed set (the handlers answer 400 for others), by name: each means one thing wherever it appears.
    private static readonly Dictionary<string, IReadOnlyList<string>> ClosedParameters = new()
    {
        ["not_found_reason"] = NotFoundReason.All,
        ["has_media"] = MediaKinds.All,
    };

    public static OpenApiOptions AddServiceContract(this OpenApiOptions options)
    {
        options.AddSchemaTransformer((schema, context, _) =>
        {
            if (context.JsonTypeInfo.Type == typeof(ProblemDetails) || context.JsonTypeInfo.Type == typeof(HttpValidationProblemDetails))
            {
                schema.Properties ??= new Dictionary<string, IOpenApiSchema>();
                schema.Properties[CorrelationId.ProblemMember] = new OpenApiSchema
                {
                    Type = JsonSchemaType.String,
                    Description = $"The request's correlation id (the {CorrelationId.HeaderName} header), also on every log line it wrote.",
                };
            }
            if (context.JsonPropertyInfo is { } property
                && ClosedSets.TryGetValue((property.DeclaringType, property.Name), out var values))
            {
                schema.Enum = EnumOf(values, nullable: schema.Type?.HasFlag(JsonSchemaType.Null) == true);
            }
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, _, _) =>
        {
            foreach (var parameter in operation.Parameters ?? [])
            {
                if (parameter.Name is { } name && ClosedParameters.TryGetValue(name, out var values) && parameter.Schema is OpenApiSchema schema)
                {
                    schema.Enum = EnumOf(values, nullable: false);
                }
            }
            return Task.CompletedTask;
        });
        options.AddDocumentTransformer((document, _, _) =>
        {
            foreach (var operation in document.Paths.Values.SelectMany(path => path.Operations?.Values ?? Enumerable.Empty<OpenApiOperation>()))
            {
                operation.Responses ??= [];
                operation.Responses.TryAdd(StatusCodes.Status500InternalServerError.ToString(System.Globalization.CultureInfo.InvariantCulture), new OpenApiResponse
                {
                    Description = "Internal Server Error",
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference(ProblemSchema, document) },
                    },
                });
            }
            return Task.CompletedTask;
        });
        return options;
    }

    // A nullable property's enum lists null too, or a schema validator refuses the nulls it is declared to allow.
    private static List<JsonNode> EnumOf(IReadOnlyList<string> values, bool nullable) =>
        [.. values.Select(value => (JsonNode)JsonValue.Create(value)), .. nullable ? [null!] : Array.Empty<JsonNode>()];
}
