using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using PostService.Atproto;
using PostService.Http;
using PostService.Posts;
using PostService.Security;

namespace PostService.Tagging;

public static class TagsEndpoints
{
    public const int MaxBulkUris = 1_000;
    private const int DefaultPageSize = 100;
    private const int MaxPageSize = 1_000;
    private const int MaxTextLength = 10_000;

    public static IEndpointRouteBuilder MapTagsEndpoints(this IEndpointRouteBuilder routes)
    {
        var tags = routes.MapGroup("/tags").WithTags("Tags");
        tags.MapPost("/", SaveTag)
            .WithName("SaveTag")
            .WithSummary("Create a tag, or update an existing tag's description and colour")
            .WithDescription($"name: {TagName.Rule} (upper case is lowered). 201 when created, 200 when it existed.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .WithApiAccess(ApiAccess.Write);
        tags.MapGet("/", ListTags)
            .WithName("ListTags")
            .WithSummary("Every tag, with how many posts carry it")
            .WithApiAccess(ApiAccess.Read);
        tags.MapPost("/{tag}/posts", TagPosts)
            .WithName("TagPosts")
            .WithSummary($"Put a tag on up to {MaxBulkUris:N0} posts at once")
            .WithDescription("Body: uris, and optionally applied_by, confidence, notes, version for all of them. URIs no feed served are returned, not tagged.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithApiAccess(ApiAccess.Write);
        tags.MapGet("/{tag}/posts", ListTaggedPosts)
            .WithName("ListTaggedPosts")
            .WithSummary("A page of the posts carrying a tag, in post URI order")
            .WithDescription("Keyset pagination: pass next_cursor back as cursor until it is null.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithApiAccess(ApiAccess.Read);

        // The post's at-URI is one path segment here, so it must be percent-encoded (at%3A%2F%2F...).
        var posts = routes.MapGroup("/posts/{uri}/tags").WithTags("Tags");
        posts.MapPut("/{tag}", TagPost)
            .WithName("TagPost")
            .WithSummary("Put a tag on a post, replacing what it carried under that tag")
            .WithDescription("The post URI percent-encoded. Body (optional): applied_by (user, rule or model; default user), confidence 0-1, notes, version.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithApiAccess(ApiAccess.Write);
        posts.MapDelete("/{tag}", UntagPost)
            .WithName("UntagPost")
            .WithSummary("Take a tag off a post")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithApiAccess(ApiAccess.Write);
        return routes;
    }

    public static async Task<Results<Created<Tag>, Ok<Tag>, ProblemHttpResult>> SaveTag(
        TagRequest body, TagsRepository tags, TimeProvider time, CancellationToken cancellationToken)
    {
        if (TagName.Normalize(body.Name) is not { } name)
        {
            return Invalid($"name must be {TagName.Rule}.");
        }
        if (body.Color is { Length: > 32 } || body.Description is { Length: > MaxTextLength })
        {
            return Invalid($"color is at most 32 characters and description at most {MaxTextLength:N0}.");
        }
        var (tag, created) = await tags.SaveAsync(name, body.Description, body.Color, time.GetUtcNow(), cancellationToken);
        return created ? TypedResults.Created($"/tags/{Uri.EscapeDataString(name)}/posts", tag) : TypedResults.Ok(tag);
    }

    public static async Task<Ok<IReadOnlyList<Tag>>> ListTags(TagsRepository tags, CancellationToken cancellationToken) =>
        TypedResults.Ok(await tags.ListAsync(cancellationToken));

    public static async Task<Results<Ok<PostTag>, ProblemHttpResult>> TagPost(
        string uri, string tag, [FromBody] PostTagRequest? body, TagsRepository tags, TimeProvider time, CancellationToken cancellationToken)
    {
        var postUri = PostsEndpoints.NormalizeRouteUri(uri);
        if (CheckValues(body) is { } invalid)
        {
            return invalid;
        }
        var (outcome, tagged) = await tags.TagPostAsync(postUri, StoredName(tag), body ?? new PostTagRequest(null, null, null, null),
            time.GetUtcNow(), cancellationToken);
        return outcome switch
        {
            TaggingOutcome.Tagged => TypedResults.Ok(tagged!),
            TaggingOutcome.UnknownTag => UnknownTag(tag),
            _ => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Post not found",
                detail: "No feed has served a post with this URI."),
        };
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> UntagPost(
        string uri, string tag, TagsRepository tags, CancellationToken cancellationToken) =>
        await tags.UntagPostAsync(PostsEndpoints.NormalizeRouteUri(uri), StoredName(tag), cancellationToken)
            ? TypedResults.NoContent()
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Tag not on post",
                detail: $"The post does not carry the tag '{tag}'.");

    public static async Task<Results<Ok<BulkTagResponse>, ProblemHttpResult>> TagPosts(
        string tag, BulkTagRequest body, TagsRepository tags, TimeProvider time, CancellationToken cancellationToken)
    {
        if (body.Uris is not { Count: > 0 and <= MaxBulkUris } uris)
        {
            return Invalid($"uris must hold 1 to {MaxBulkUris:N0} post URIs.");
        }
        if (uris.Any(uri => uri is null || uri.Length > AtUri.MaxLength))
        {
            return Invalid($"Every URI is a string of at most {AtUri.MaxLength} characters.");
        }
        if (CheckValues(body.Values) is { } invalid)
        {
            return invalid;
        }
        var result = await tags.TagPostsAsync(StoredName(tag), uris, body.Values, time.GetUtcNow(), cancellationToken);
        return result is null ? UnknownTag(tag) : TypedResults.Ok(result);
    }

    public static async Task<Results<Ok<Page<PostTag>>, ProblemHttpResult>> ListTaggedPosts(
        string tag, int? limit, string? cursor, TagsRepository tags, CancellationToken cancellationToken)
    {
        if (KeysetPage.Check(limit, cursor, DefaultPageSize, MaxPageSize, out var pageSize, out var afterUri) is { } invalid)
        {
            return invalid;
        }
        var name = StoredName(tag);
        if (await tags.GetAsync(name, cancellationToken) is null)
        {
            return UnknownTag(tag);
        }
        var items = await tags.ListTaggedAsync(name, pageSize, afterUri, cancellationToken);
        return TypedResults.Ok(KeysetPage.Of(items, pageSize, item => item.PostUri));
    }

    // A name that is not valid finds no tag, and the answer names it as given.
    private static string StoredName(string tag) => TagName.Normalize(tag) ?? tag;

    private static ProblemHttpResult? CheckValues(PostTagRequest? values) => values switch
    {
        { Confidence: < 0 or > 1 } => Invalid("confidence must be between 0 and 1."),
        { Notes.Length: > MaxTextLength } => Invalid($"notes are at most {MaxTextLength:N0} characters."),
        { Version.Length: > 200 } => Invalid("version is at most 200 characters."),
        _ => null,
    };

    private static ProblemHttpResult Invalid(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid request", detail: detail);

    private static ProblemHttpResult UnknownTag(string tag) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Tag not found",
            detail: $"There is no tag '{tag}'; create it with POST /tags first.");
}
