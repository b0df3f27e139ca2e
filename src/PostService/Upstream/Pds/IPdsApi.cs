using Refit;

namespace PostService.Upstream.Pds;

/// <summary>The calls PostService makes to an author's PDS. Bodies are read as text and parsed by the caller.</summary>
public interface IPdsApi
{
    public const string ClientName = "pds";

    /// <summary><c>{"did","active","status"?,"rev"}</c>; 400 <c>RepoNotFound</c> when the PDS holds no such account.</summary>
    [Get("/xrpc/com.atproto.sync.getRepoStatus")]
    Task<IApiResponse<string>> GetRepoStatusAsync(string did, CancellationToken cancellationToken);

    /// <summary><c>{"uri","cid","value"}</c>; 400 <c>RecordNotFound</c> when the record was deleted.</summary>
    [Get("/xrpc/com.atproto.repo.getRecord")]
    Task<IApiResponse<string>> GetRecordAsync(string repo, string collection, string rkey, CancellationToken cancellationToken);

    /// <summary>The whole repository as a CAR file; the answer is returned once its headers arrive, for the body to be streamed.</summary>
    [Get("/xrpc/com.atproto.sync.getRepo")]
    Task<HttpResponseMessage> GetRepoAsync(string did, CancellationToken cancellationToken);
}
