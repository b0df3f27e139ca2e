using Refit;

namespace PostService.Upstream.Identity;

/// <summary>A <c>did:plc</c> directory: <c>GET /{did}</c> is the DID document.</summary>
public interface IPlcDirectoryApi
{
    public const string ClientName = "plc";

    [Get("/{did}")]
    Task<IApiResponse<string>> GetDocumentAsync(string did, CancellationToken cancellationToken);
}

/// <summary>A <c>did:web</c> host: its DID document is at <c>/.well-known/did.json</c>.</summary>
public interface IDidWebApi
{
    public const string ClientName = "did-web";

    [Get("/.well-known/did.json")]
    Task<IApiResponse<string>> GetDocumentAsync(CancellationToken cancellationToken);
}

/// <summary>A handle resolver (the AppView by default): <c>com.atproto.identity.resolveHandle</c>.</summary>
public interface IHandleResolutionApi
{
    public const string ClientName = "handle-resolver";

    /// <summary><c>{"did"}</c>; 400 with "Unable to resolve handle" when it does not resolve.</summary>
    [Get("/xrpc/com.atproto.identity.resolveHandle")]
    Task<IApiResponse<string>> ResolveHandleAsync(string handle, CancellationToken cancellationToken);
}
