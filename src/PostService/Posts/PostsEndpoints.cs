using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using PostService.Atproto;
using PostService.Http;
using PostService.Identity;
using PostService.Security;

namespace PostService.Posts;

public static class PostsEndpoints
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1_000;


    public static IEndpointRouteBuilder MapPostsEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/posts").WithTags("Posts").WithApiAccess(ApiAccess.Read);
        group.MapGet("/", ListPosts)
            .WithName("ListPosts")
            .WithSummary("A page of posts, optionally by author DID, hydration status, why a post was not found, and embedded media")
            .WithDescription("Keyset pagination in post URI order: pass next_cursor back as cursor until it is null. has_media: image, video, external or quote.")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapGet("/{**uri}", GetPost)
            .WithName("GetPost")
            .WithSummary("The canonical row of one post URI, with what it embeds (media)")
            .WithDescription("The at-URI may follow /posts/ percent-encoded (at%3A%2F%2F...) or raw (at://did:plc:.../app.bsky.feed.post/...); at most 8 KiB.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return routes;
    }

    public static async Task<Results<Ok<PostRecord>, ProblemHttpResult>> GetPost(
        string uri, PostsRepository posts, CancellationToken cancellationToken)
    {
        var postUri = NormalizeRouteUri(uri);
        if (postUri.Length > AtUri.MaxLength)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid post URI",
                detail: $"The URI is {postUri.Length} characters long; an at-URI has at most {AtUri.MaxLength}.");
        }
        var post = await posts.GetAsync(postUri, cancellationToken);
        return post is null
            ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Post not found",
                detail: $"No post with URI '{Shorten(postUri)}' has been seen in any feed request.")
            : TypedResults.Ok(post);
    }

    public static async Task<Results<Ok<Page<PostRecord>>, ProblemHttpResult>> ListPosts(
        PostsRepository posts,
        [FromQuery(Name = "author_did")] string? authorDid,
        string? status,
        [FromQuery(Name = "not_found_reason")] string? notFoundReason,
        int? limit,
        string? cursor,
        [FromQuery(Name = "has_media")] string? hasMedia,
        [FromQuery(Name = "include_deleted")] bool? includeDeleted,
        CancellationToken cancellationToken)
    {
        if (hasMedia is not null && !MediaKinds.All.Contains(hasMedia))
        {
            return Query.Invalid($"has_media must be one of {string.Join(", ", MediaKinds.All)}.");
        }
        if (status is not null && !HydrationStatus.All.Contains(status))
        {
            return Query.Invalid($"status must be one of {string.Join(", ", HydrationStatus.All)}.");
        }
        if (notFoundReason is not null && !NotFoundReason.All.Contains(notFoundReason))
        {
            return Query.Invalid($"not_found_reason must be one of {string.Join(", ", NotFoundReason.All)}.");
        }
        if (KeysetPage.Check(limit, cursor, DefaultPageSize, MaxPageSize, out var pageSize, out var afterUri) is { } invalid)
        {
            return invalid;
        }
        var items = await posts.ListAsync(new PostFilter(authorDid, status, notFoundReason, pageSize, afterUri, hasMedia, includeDeleted ?? true), cancellationToken);
        return TypedResults.Ok(KeysetPage.Of(items, pageSize, post => post.PostUri));
    }

    /// <summary>
    /// The server has decoded the path once except for <c>%2F</c>, and proxies may collapse the <c>//</c> after
    /// <c>at:</c>; undo both so that the encoded and the raw form name the same post. Nothing else is decoded again:
    /// a double-encoded URI names the text it decodes to once, as a DID's own percent-encoding requires.
    /// </summary>
    internal static string NormalizeRouteUri(string routeValue)
    {
        var decoded = routeValue.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
        return decoded.StartsWith("at:/", StringComparison.Ordinal) && !decoded.StartsWith("at://", StringComparison.Ordinal)
            ? "at://" + decoded["at:/".Length..]
            : decoded;
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";
}
