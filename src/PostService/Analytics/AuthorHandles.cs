using PostService.Hydration;
using PostService.Identity;
using PostService.Storage;
using PostService.Upstream.AppView;

namespace PostService.Analytics;

/// <summary>Each fetch records the handle the AppView (or the firehose's cache) gave the post's author in <see cref="AuthorHandlesRepository"/>.</summary>
public sealed class AuthorHandles(IDbConnectionFactory connections) : IHydratedPostsHandler
{
    public Task HandleAsync(IReadOnlyList<HydratedPost> posts, DateTimeOffset fetchedAt, CancellationToken cancellationToken)
    {
        var seenAt = DbTime.ToText(fetchedAt);
        return connections.WriteAsync(async (connection, transaction) =>
        {
            await AuthorHandlesRepository.RecordAsync(connection, transaction,
                posts.Select(post => new HandleSighting(post.AuthorDid, post.AuthorHandle, seenAt)), cancellationToken);
            return 0;
        }, cancellationToken);
    }
}
