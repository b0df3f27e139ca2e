using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using PostService.Identity;

namespace PostService.Firehose;

/// <summary>
/// Learns the handles of cached posts' authors that sent no <c>#identity</c> event while the consumer listened (most of
/// them, on a relay): their DID documents, through the identity feature's cached resolver, a few at a time. The handles
/// found go to the firehose's DID → handle cache; a DID that does not resolve is left out, and its posts go to the AppView.
/// </summary>
public sealed class FirehoseHandleResolver(IdentityResolver identity, FirehoseStore store, IOptions<FirehoseOptions> options, TimeProvider time)
{
    /// <summary>Resolves <paramref name="dids"/> and saves the handles found; returns how many it saved.</summary>
    public async Task<int> LearnAsync(IReadOnlyCollection<string> dids, CancellationToken cancellationToken)
    {
        if (dids.Count == 0)
        {
            return 0;
        }
        var handles = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(dids,
            new ParallelOptions { MaxDegreeOfParallelism = options.Value.HandleResolutionParallelism, CancellationToken = cancellationToken },
            async (did, token) =>
            {
                if ((await identity.ResolveDidAsync(did, token)).Value?.Handle is { } handle)
                {
                    handles[did] = handle;
                }
            });
        if (!handles.IsEmpty)
        {
            await store.SaveHandlesAsync(handles, time.GetUtcNow(), cancellationToken);
        }
        return handles.Count;
    }
}
