using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;
using PostService.Http;
using PostService.Security;

namespace PostService.Exports;

/// <summary><c>GET /exports/{dataset}.parquet</c> and <c>.csv</c>: whole datasets as files, streamed while they are read.</summary>
public static class ExportsEndpoints
{
    private const string FilterDescription =
        "Filters select feed requests: requester_did, algo, since (inclusive) and until (exclusive, ISO-8601) on the time " +
        "the feed was served; posts then has the posts those requests served. engagements takes requester_did (the engager), " +
        "since and until (on the engagement's createdAt), not algo. Rows come in storage order. The response " +
        "starts at once and is streamed; a failure part-way ends the connection, leaving an incomplete file.";

    public static IEndpointRouteBuilder MapExports(this IEndpointRouteBuilder routes)
    {
        var datasets = string.Join(", ", ExportDatasets.All.Select(dataset => dataset.Name));
        var description = FilterDescription + string.Concat(ExportDatasets.All.Select(dataset =>
            $"\n\n{dataset.Name}: {dataset.Description}. " +
            string.Join("; ", dataset.Columns.Select(column => $"{column.Name} ({column.Type}): {column.Description}")) + "."));
        var group = routes.MapGroup("/exports").WithTags("Exports").WithApiAccess(ApiAccess.Read)
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                // The route takes any name and answers 404 for an unknown one; the document lists the known ones.
                if (operation.Parameters?.FirstOrDefault(parameter => parameter.Name == "dataset")?.Schema is OpenApiSchema schema)
                {
                    schema.Enum = [.. ExportDatasets.All.Select(dataset => (JsonNode)JsonValue.Create(dataset.Name))];
                }
                return Task.CompletedTask;
            });
        group.MapGet("/{dataset}.parquet", ExportParquet)
            .WithName("ExportParquet")
            .WithSummary($"A dataset as one Parquet file ({datasets})")
            .WithDescription(description)
            .Produces(StatusCodes.Status200OK, typeof(Stream), ExportFormats.ParquetContentType)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/{dataset}.csv", ExportCsv)
            .WithName("ExportCsv")
            .WithSummary($"A dataset as one CSV file, RFC 4180, UTF-8, with a header row ({datasets})")
            .WithDescription(description)
            .Produces(StatusCodes.Status200OK, typeof(Stream), "text/csv")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return routes;
    }

    public static Results<PushStreamHttpResult, ProblemHttpResult> ExportParquet(
        string dataset, Exporter exporter, [AsParameters] ExportQuery query, CancellationToken cancellationToken) =>
        Export(dataset, ExportFormat.Parquet, exporter, query, cancellationToken);

    public static Results<PushStreamHttpResult, ProblemHttpResult> ExportCsv(
        string dataset, Exporter exporter, [AsParameters] ExportQuery query, CancellationToken cancellationToken) =>
        Export(dataset, ExportFormat.Csv, exporter, query, cancellationToken);

    /// <summary>The filters of an export's query string.</summary>
    public sealed record ExportQuery(
        [property: FromQuery(Name = "requester_did")] string? RequesterDid,
        [property: FromQuery(Name = "algo")] string? Algo,
        [property: FromQuery(Name = "since")] string? Since,
        [property: FromQuery(Name = "until")] string? Until);

    private static Results<PushStreamHttpResult, ProblemHttpResult> Export(
        string datasetName, ExportFormat format, Exporter exporter, ExportQuery query, CancellationToken cancellationToken)
    {
        if (ExportDatasets.Find(datasetName) is not { } dataset)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Dataset not found",
                detail: $"There is no dataset '{datasetName}'; there are {string.Join(", ", ExportDatasets.All.Select(known => known.Name))}.");
        }
        if (ExportFilter.TryCreate(dataset, query.RequesterDid, query.Algo, query.Since, query.Until, out var error) is not { } filter)
        {
            return Query.Invalid(error!);
        }
        return TypedResults.Stream(
            output => exporter.WriteAsync(dataset, format, filter, output, progress: null, cancellationToken),
            format.ContentType(),
            $"{dataset.Name}.{format.Extension()}");
    }
}
