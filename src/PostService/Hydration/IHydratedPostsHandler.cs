using PostService.Upstream.AppView;

namespace PostService.Hydration;

/// <summary>
/// Work that follows the recording of fetched posts (rule tags, metric snapshots, hashtags): each handler is called with
/// every call's hydrated posts once their rows are written, in a transaction of its own. A handler that fails is logged
/// and does not undo the hydration nor stop the other handlers.
/// </summary>
public interface IHydratedPostsHandler
{
    Task HandleAsync(IReadOnlyList<HydratedPost> posts, DateTimeOffset fetchedAt, CancellationToken cancellationToken);
}
