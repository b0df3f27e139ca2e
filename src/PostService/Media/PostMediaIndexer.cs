using Dapper;
using PostService.Hydration;
using PostService.Storage;
using PostService.Upstream.AppView;

namespace PostService.Media;

/// <summary><c>post_media</c>: what each hydrated post embeds, in embed order, as of its latest fetch.</summary>
public sealed class PostMediaIndexer(IDbConnectionFactory connections) : IHydratedPostsHandler
{
    private const string DeleteMedia = "DELETE FROM post_media WHERE post_uri = @PostUri";

    private const string InsertMedia = """
        INSERT INTO post_media (post_uri, position, kind, url, alt, width, height, blob_cid, title, description, quoted_uri)
        VALUES (@PostUri, @Position, @Kind, @Url, @Alt, @Width, @Height, @BlobCid, @Title, @Description, @QuotedUri)
        """;

    public Task HandleAsync(IReadOnlyList<HydratedPost> posts, DateTimeOffset fetchedAt, CancellationToken cancellationToken)
    {
        var ordered = posts.OrderBy(post => post.Uri, StringComparer.Ordinal).ToList();
        var rows = ordered.SelectMany(post => (post.Media ?? []).Select((item, position) => new
        {
            PostUri = post.Uri,
            Position = position,
            Kind = item.Kind.ToString().ToLowerInvariant(),
            item.Url,
            item.Alt,
            item.Width,
            item.Height,
            item.BlobCid,
            item.Title,
            item.Description,
            item.QuotedUri,
        })).ToList();
        return connections.WriteAsync(async (connection, transaction) =>
        {
            await connection.ExecuteAsync(DeleteMedia, ordered.Select(post => new { PostUri = post.Uri }), transaction);
            return await connection.ExecuteAsync(InsertMedia, rows, transaction);
        }, cancellationToken);
    }
}

public static class MediaRegistration
{
    public static IServiceCollection AddMedia(this IServiceCollection services) =>
        services.AddSingleton<IHydratedPostsHandler, PostMediaIndexer>();
}
