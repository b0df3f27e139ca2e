namespace PostService.Identity;

/// <summary>Handle-based URIs in their DID form, and those whose handle did not resolve, with the reason.</summary>
public sealed record HandleUriResolutions(IReadOnlyDictionary<string, string> DidForms, IReadOnlyList<(string Uri, string Reason)> Failures);

/// <summary>
/// Turns <c>at://handle/...</c> into <c>at://did/...</c> for getPosts (which the AppView answers with 500 for handle URIs),
/// through the cached handle resolution, and records the DID form as the post's <c>resolved_uri</c>. The served URI stays the key.
/// </summary>
public sealed class HandleUriResolver(IdentityResolver identity, IdentityRepository repository)
{
    public async Task<HandleUriResolutions> ResolveAsync(IReadOnlyList<string> uris, CancellationToken cancellationToken)
    {
        var didForms = new Dictionary<string, string>(StringComparer.Ordinal);
        var failures = new List<(string, string)>();
        foreach (var uri in uris)
        {
            var rest = uri["at://".Length..];
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            var handle = await identity.ResolveHandleAsync(rest[..slash], cancellationToken);
            if (handle.Value is { } did)
            {
                didForms[uri] = $"at://{did}{rest[slash..]}";
            }
            else
            {
                failures.Add((uri, $"handle-based at-URI: {handle.Failure}"));
            }
        }
        if (didForms.Count > 0)
        {
            await repository.RecordResolvedUrisAsync(didForms, cancellationToken);
        }
        return new HandleUriResolutions(didForms, failures);
    }
}
