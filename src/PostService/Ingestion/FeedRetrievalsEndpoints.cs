using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using PostService.Http;
using PostService.Security;

namespace PostService.Ingestion;

public static class FeedRetrievalsEndpoints
{
    public static IEndpointRouteBuilder MapFeedRetrievalsEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/feed-retrievals", PostRetrievals)
            .WithName("PostFeedRetrievals")
            .WithTags("Ingestion")
            .WithSummary("Store a batch of feed retrievals")
            .WithDescription("""
                Body: {"retrievals": [...]} ("compliance" is accepted for "retrievals"). Each retrieval has an integer id,
                requester_did (or user_did), an ISO-8601 timestamp, an optional algo and a posts array whose items carry
                uri (or postUri), optional cid and optional position. The whole batch is stored in one transaction, or
                nothing of it with a problem naming the retrieval and field; re-sending an id in a later request replaces
                that request. Inside one batch, a byte-identical copy of a retrieval is stored once and two different
                records with one id are refused; a URI repeated in one retrieval is one row at its last position.
                Unseen post URIs are queued for hydration. The body is kept, compressed, in the replayable event log
                (ingest_events) in the same transaction. Needs X-Api-Key when keys are configured.
                """)
            .Accepts<FeedRetrievalBatch>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .WithApiAccess(ApiAccess.Write);
        return routes;
    }

    public static async Task<Results<Ok<IngestResponse>, ProblemHttpResult>> PostRetrievals(
        HttpRequest request, RetrievalIngestor ingestor, IOptions<IngestionOptions> options, CancellationToken cancellationToken)
    {
        var (document, problem) = await JsonBody.ReadAsync(request, options.Value.MaxBodyBytes, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }
        using (document)
        {
            var (batch, rejection) = RetrievalBatchParser.Parse(document!.RootElement, options.Value);
            if (rejection is not null)
            {
                return TypedResults.Problem(statusCode: rejection.StatusCode, title: rejection.Title, detail: rejection.Detail);
            }
            return TypedResults.Ok(await ingestor.IngestAsync(batch!, JsonMarshal.GetRawUtf8Value(document.RootElement), cancellationToken));
        }
    }
}
