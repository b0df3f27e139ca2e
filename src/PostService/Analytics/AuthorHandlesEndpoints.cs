using Microsoft.AspNetCore.Http.HttpResults;
using PostService.Identity;
using PostService.Security;

namespace PostService.Analytics;

/// <summary>The handles an author was seen with, the latest last.</summary>
public sealed record AuthorHandleHistory(string Did, IReadOnlyList<AuthorHandle> Handles);

public static class AuthorHandlesEndpoints
{
    public static IEndpointRouteBuilder MapAuthorHandlesEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGroup("/authors").WithTags("Engagement").WithApiAccess(ApiAccess.Read)
            .MapGet("/{did}/handles", GetHandles)
            .WithName("GetAuthorHandles")
            .WithSummary("The handles an author's DID was seen with (at fetches of their posts, or in the firehose), first and last seen, the latest last")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return routes;
    }

    public static async Task<Results<Ok<AuthorHandleHistory>, ProblemHttpResult>> GetHandles(
        string did, AuthorHandlesRepository handles, CancellationToken cancellationToken)
    {
        var history = await handles.OfAsync(did, cancellationToken);
        return history.Count == 0
            ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Author not found",
                detail: "No fetched post has an author with this DID.")
            : TypedResults.Ok(new AuthorHandleHistory(did, history));
    }
}
