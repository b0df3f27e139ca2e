using Refit;

namespace PostService.Upstream.AppView;

/// <summary>The AppView's XRPC endpoints, as Refit calls them; <see cref="IAppViewClient"/> turns the answers into results.</summary>
internal interface IAppViewApi
{
    /// <summary>Repeated <c>uris=</c> parameters, each escaped: rkeys may contain '&amp;', '+' or '=', and a comma-joined list would be read as one invalid at-uri.</summary>
    [Get("/xrpc/app.bsky.feed.getPosts")]
    Task<ApiResponse<GetPostsResponse>> GetPostsAsync([Query(CollectionFormat.Multi)] IEnumerable<string> uris, CancellationToken cancellationToken);
}
