namespace PostService.Upstream.AppView;

/// <summary>Hydrates post at-URIs through <c>app.bsky.feed.getPosts</c>.</summary>
public interface IAppViewClient
{
    /// <summary>
    /// Fetches up to 25 posts in one call. Never throws for AppView or network failures; those come back
    /// as a <see cref="GetPostsResult"/>. Throws <see cref="OperationCanceledException"/> when
    /// <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    Task<GetPostsResult> GetPostsAsync(IReadOnlyList<string> uris, CancellationToken cancellationToken);
}
