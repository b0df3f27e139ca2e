using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using PostService.Http;
using PostService.Posts;
using PostService.Security;
using PostService.Storage;

namespace PostService.Engagements;

public static class EngagementsEndpoints
{
    public static IEndpointRouteBuilder MapEngagementsEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/engagements", ListEngagements)
            .WithTags("Engagements")
            .WithName("ListEngagements")
            .WithSummary("Likes, reposts, replies and quotes by subscribers, joined to the latest serving of the post to them before")
            .WithDescription("""
                From backfilled repositories (repo_records). Each row names the engagement, the post, and the request and
                position in which the post was last served to that subscriber before the engagement, with the seconds in
                between. served=false lists instead the engagements with posts never served to the subscriber before.
                since is inclusive, until exclusive, on the engagement's createdAt. Pass next_cursor back as cursor.
                """)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .WithApiAccess(ApiAccess.Read);
        return routes;
    }

    public static async Task<Results<Ok<Page<Engagement>>, ProblemHttpResult>> ListEngagements(
        EngagementsRepository engagements,
        [FromQuery(Name = "requester_did")] string? requesterDid,
        string? since,
        string? until,
        bool? served,
        int? limit,
        string? cursor,
        CancellationToken cancellationToken)
    {
        if (KeysetPage.Check(limit, cursor, since, until, PostsEndpoints.DefaultPageSize, PostsEndpoints.MaxPageSize,
                out var pageSize, out var afterUri, out var sinceText, out var untilText) is { } invalid)
        {
            return invalid;
        }
        var items = await engagements.ListAsync(new EngagementFilter(requesterDid, sinceText, untilText, served ?? true, pageSize, afterUri), cancellationToken);
        return TypedResults.Ok(KeysetPage.Of(items, pageSize, engagement => engagement.EngagementUri));
    }
}
