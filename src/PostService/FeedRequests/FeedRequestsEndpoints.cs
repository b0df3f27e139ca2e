using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using PostService.Http;
using PostService.Posts;
using PostService.Security;
using PostService.Storage;

namespace PostService.FeedRequests;

public static class FeedRequestsEndpoints
{
    public static IEndpointRouteBuilder MapFeedRequestsEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/feed-requests").WithTags("Feed requests").WithApiAccess(ApiAccess.Read);
        group.MapGet("/", ListFeedRequests)
            .WithName("ListFeedRequests")
            .WithSummary("A page of feed requests, optionally by requester and time range")
            .WithDescription("since is inclusive, until exclusive (ISO-8601). Ordered by request id; pass next_cursor back as cursor.")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapGet("/{id:long}", GetFeedRequest)
            .WithName("GetFeedRequest")
            .WithSummary("One feed request with its posts in position order, joined with each post's author")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return routes;
    }

    public static async Task<Results<Ok<FeedRequestDetail>, ProblemHttpResult>> GetFeedRequest(
        long id, FeedRequestsRepository requests, CancellationToken cancellationToken)
    {
        var request = await requests.GetAsync(id, cancellationToken);
        return request is null
            ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Feed request not found",
                detail: $"No feed request with id {id} has been stored.")
            : TypedResults.Ok(request);
    }

    public static async Task<Results<Ok<Page<FeedRequestSummary>>, ProblemHttpResult>> ListFeedRequests(
        FeedRequestsRepository requests,
        [FromQuery(Name = "requester_did")] string? requesterDid,
        string? since,
        string? until,
        int? limit,
        string? cursor,
        CancellationToken cancellationToken)
    {
        if (KeysetPage.Check(limit, cursor, since, until, PostsEndpoints.DefaultPageSize, PostsEndpoints.MaxPageSize,
                out var pageSize, out var afterKey, out var sinceText, out var untilText) is { } invalid)
        {
            return invalid;
        }
        long? afterId = null;
        if (afterKey is not null)
        {
            if (!long.TryParse(afterKey, CultureInfo.InvariantCulture, out var id))
            {
                return KeysetPage.NotIssued;
            }
            afterId = id;
        }
        var items = await requests.ListAsync(new FeedRequestFilter(requesterDid, sinceText, untilText, pageSize, afterId), cancellationToken);
        return TypedResults.Ok(KeysetPage.Of(items, pageSize, request => request.RequestId.ToString(CultureInfo.InvariantCulture)));
    }
}

