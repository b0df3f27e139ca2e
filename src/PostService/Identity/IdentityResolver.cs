using System.Text.Json;
using Microsoft.Extensions.Options;
using PostService.Upstream;
using PostService.Upstream.Identity;

namespace PostService.Identity;

/// <summary>
/// Resolves DIDs to their documents (<c>did:plc</c> from the PLC directory, <c>did:web</c> from the host's
/// <c>/.well-known/did.json</c>) and handles to DIDs (<c>com.atproto.identity.resolveHandle</c>), keeping answers for
/// their time to live and failures briefly. Every failure, of the network or of the document, is a reason.
/// </summary>
public sealed class IdentityResolver(XrpcClientFactory clients, IOptions<IdentityOptions> options, TimeProvider time)
{
    private const string PlcPrefix = "did:plc:";
    private const string WebPrefix = "did:web:";

    private readonly TtlCache<Resolution<DidDocument>> _documents = new(time);
    private readonly TtlCache<Resolution<string>> _handles = new(time);
    private readonly IdentityOptions _options = options.Value;

    public async Task<Resolution<DidDocument>> ResolveDidAsync(string did, CancellationToken cancellationToken)
    {
        if (_documents.TryGet(did, out var cached))
        {
            return cached;
        }
        var resolution = await FetchDocumentAsync(did, cancellationToken);
        _documents.Set(did, resolution, TimeToLive(resolution.Failure, _options.DidCacheSeconds));
        return resolution;
    }

    /// <summary>The DID a handle names, as the handle resolver says.</summary>
    public async Task<Resolution<string>> ResolveHandleAsync(string handle, CancellationToken cancellationToken)
    {
        var key = handle.ToLowerInvariant();
        if (_handles.TryGet(key, out var cached))
        {
            return cached;
        }
        var result = await Xrpc.CallAsync(
            () => clients.Create<IHandleResolutionApi>(IHandleResolutionApi.ClientName).ResolveHandleAsync(key, cancellationToken), cancellationToken);
        var resolution = result switch
        {
            XrpcResult.Answered answered => DidOf(answered.Body) is { } did
                ? Resolution<string>.Resolved(did)
                : Resolution<string>.Failed($"the handle resolver's answer for {key} names no DID"),
            XrpcResult.Rejected rejected => Resolution<string>.Failed($"the handle {key} does not resolve: {rejected}"),
            XrpcResult.Unreachable unreachable => Resolution<string>.Failed($"the handle resolver could not be asked about {key}: {unreachable.Reason}"),
            _ => throw new InvalidOperationException(result.GetType().Name),
        };
        _handles.Set(key, resolution, TimeToLive(resolution.Failure, _options.HandleCacheSeconds));
        return resolution;
    }

    private TimeSpan TimeToLive(string? failure, int seconds) => TimeSpan.FromSeconds(failure is null ? seconds : _options.FailureCacheSeconds);

    private async Task<Resolution<DidDocument>> FetchDocumentAsync(string did, CancellationToken cancellationToken)
    {
        string source;
        Func<Task<Refit.IApiResponse<string>>> call;
        if (did.StartsWith(PlcPrefix, StringComparison.Ordinal) && did.Length > PlcPrefix.Length)
        {
            source = "the PLC directory";
            call = () => clients.Create<IPlcDirectoryApi>(IPlcDirectoryApi.ClientName).GetDocumentAsync(did, cancellationToken);
        }
        else if (did.StartsWith(WebPrefix, StringComparison.Ordinal) && WebHost(did[WebPrefix.Length..]) is { } host)
        {
            source = host.Authority;
            call = () => clients.Create<IDidWebApi>(IDidWebApi.ClientName, host).GetDocumentAsync(cancellationToken);
        }
        else
        {
            return Resolution<DidDocument>.Failed(did.StartsWith(WebPrefix, StringComparison.Ordinal)
                ? $"{did} is not a did:web atproto accepts (a host name, without a path)"
                : $"{did} uses a DID method atproto does not (only did:plc and did:web)");
        }
        return await Xrpc.CallAsync(call, cancellationToken) switch
        {
            XrpcResult.Answered answered => DidDocumentParser.Parse(did, answered.Body),
            XrpcResult.Rejected rejected => Resolution<DidDocument>.Failed($"{source} has no DID document for {did}: {rejected}"),
            XrpcResult.Unreachable unreachable => Resolution<DidDocument>.Failed($"{source} could not be asked for {did}: {unreachable.Reason}"),
            var other => throw new InvalidOperationException(other.GetType().Name),
        };
    }

    /// <summary>
    /// The host of a <c>did:web</c> (a port is percent-encoded: <c>localhost%3A8080</c>); atproto allows no path. Plain
    /// HTTP only for localhost, as the reference implementation does for development.
    /// </summary>
    private static Uri? WebHost(string identifier)
    {
        var host = Uri.UnescapeDataString(identifier);
        if (identifier.Contains(':', StringComparison.Ordinal) || host.Contains('/', StringComparison.Ordinal) || host.Length == 0)
        {
            return null;
        }
        var local = host.StartsWith("localhost", StringComparison.OrdinalIgnoreCase) || host.StartsWith("127.0.0.1", StringComparison.Ordinal);
        return Uri.TryCreate($"{(local ? "http" : "https")}://{host}/", UriKind.Absolute, out var uri) && uri.AbsolutePath == "/" ? uri : null;
    }

    private static string? DidOf(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object
                   && document.RootElement.TryGetProperty("did", out var did) && did.ValueKind == JsonValueKind.String
                   && did.GetString() is { } value && value.StartsWith("did:", StringComparison.Ordinal)
                ? value
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
