using Microsoft.Extensions.Options;
using PostService.Upstream;
using PostService.Upstream.Pds;

namespace PostService.Identity;

/// <summary>
/// Asks each author's PDS why the AppView left a post out: <c>getRepoStatus</c> (is the account active, else its status),
/// then <c>getRecord</c> (deleted, or still there and so hidden by the AppView). Records the reason on the post, which stays
/// <c>not_found</c>; a hidden post keeps what its record says. Hydration calls it for the posts a getPosts call left out.
/// </summary>
public sealed class NotFoundExplainer(
    IdentityResolver identity, XrpcClientFactory clients, IdentityRepository repository,
    IOptions<IdentityOptions> options, TimeProvider time, ILogger<NotFoundExplainer> logger)
{
    private readonly IdentityOptions _options = options.Value;

    // PDS hosts that did not answer moments ago: their other posts are not asked about (each would wait out the same
    // timeouts while holding a hydration slot) until FailureCacheSeconds have passed.
    private readonly TtlCache<string> _unreachableHosts = new(time);

    /// <summary>Explains and records why each of <paramref name="uris"/> (just marked <c>not_found</c>) was not returned.</summary>
    public Task<IReadOnlyList<NotFoundExplanation>> ExplainAsync(IReadOnlyList<string> uris, CancellationToken cancellationToken) =>
        ExplainAsync(uris.Select(uri => new UnexplainedPost(uri, 0)).ToList(), cancellationToken);

    internal async Task<IReadOnlyList<NotFoundExplanation>> ExplainAsync(IReadOnlyList<UnexplainedPost> posts, CancellationToken cancellationToken)
    {
        if (!_options.ExplainNotFound || posts.Count == 0)
        {
            return [];
        }
        var explanations = new NotFoundExplanation[posts.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, posts.Count),
            new ParallelOptions { MaxDegreeOfParallelism = _options.ExplainParallelism, CancellationToken = cancellationToken },
            async (index, token) => explanations[index] = await ExplainOneAsync(posts[index].PostUri, token));
        var now = time.GetUtcNow();
        await repository.RecordAsync(explanations.Zip(posts, (explanation, post) =>
        {
            var unknown = explanation.Reason == NotFoundReason.Unknown;
            var attempts = unknown ? post.Attempts + 1 : 0;
            return new RecordedExplanation(explanation, attempts, unknown && attempts < _options.UnknownMaxAttempts ? now + Backoff(attempts) : null);
        }).ToList(), cancellationToken);
        foreach (var unknown in explanations.Where(explanation => explanation.Reason == NotFoundReason.Unknown))
        {
            logger.LogInformation("Why {Uri} was not returned is unknown: {Detail}", unknown.PostUri, unknown.Detail);
        }
        return explanations;
    }

    private async Task<NotFoundExplanation> ExplainOneAsync(string uri, CancellationToken cancellationToken)
    {
        var parts = uri.StartsWith("at://", StringComparison.Ordinal) ? uri["at://".Length..].Split('/') : [];
        if (parts.Length != 3)
        {
            return Unknown(uri, null, null, "not an at-URI of a record");
        }
        var (authority, collection, rkey) = (parts[0], parts[1], parts[2]);
        var did = authority;
        if (!authority.StartsWith("did:", StringComparison.Ordinal))
        {
            var handle = await identity.ResolveHandleAsync(authority, cancellationToken);
            if (handle.Value is null)
            {
                return Unknown(uri, null, authority, handle.Failure!);
            }
            did = handle.Value;
        }
        var resolution = await identity.ResolveDidAsync(did, cancellationToken);
        if (resolution.Value is not { } document)
        {
            return Unknown(uri, did, null, resolution.Failure!);
        }
        var pds = clients.Create<IPdsApi>(IPdsApi.ClientName, document.PdsEndpoint);
        var host = document.PdsEndpoint.Authority;
        if (_unreachableHosts.TryGet(host, out var unreachableBefore))
        {
            return Unknown(uri, did, document.Handle, $"{host} did not answer moments ago ({unreachableBefore}); not asked again yet");
        }

        var status = await Xrpc.CallAsync(() => pds.GetRepoStatusAsync(did, cancellationToken), cancellationToken);
        if (status is XrpcResult.Unreachable { Reason: var noAnswer })
        {
            _unreachableHosts.Set(host, noAnswer, TimeSpan.FromSeconds(_options.FailureCacheSeconds));
        }
        if (status is XrpcResult.Answered answered)
        {
            switch (PdsAnswers.ReadRepoStatus(answered.Body))
            {
                case null:
                    return Unknown(uri, did, document.Handle, $"{host} answered getRepoStatus with something that is not a repository status");
                case { Active: false, Status: var name }:
                    return PdsAnswers.AccountReason(name) is { } inactive
                        ? Explained(uri, inactive, did, document.Handle, $"{host}: the account is {name}")
                        : Unknown(uri, did, document.Handle, $"{host} says the account is not active, with status '{name}'");
            }
        }
        else
        {
            return status switch
            {
                XrpcResult.Rejected rejected when PdsAnswers.AccountReason(rejected.Error) is { } reason =>
                    Explained(uri, reason, did, document.Handle, $"{host} getRepoStatus: {rejected}"),
                XrpcResult.Rejected rejected => Unknown(uri, did, document.Handle, $"{host} getRepoStatus: {rejected}"),
                XrpcResult.Unreachable unreachable => Unknown(uri, did, document.Handle, $"{host} getRepoStatus: {unreachable.Reason}"),
                _ => throw new InvalidOperationException(status.GetType().Name),
            };
        }

        var record = await Xrpc.CallAsync(() => pds.GetRecordAsync(did, collection, rkey, cancellationToken), cancellationToken);
        return record switch
        {
            XrpcResult.Answered found => PdsAnswers.ReadPost(found.Body) is { } post
                ? new NotFoundExplanation(uri, NotFoundReason.Hidden,
                    $"not returned by the AppView, but {host} still serves the record: hidden by the AppView (takedown, labels or blocks)",
                    did, document.Handle, post)
                : Unknown(uri, did, document.Handle, $"{host} answered getRecord with something that is not a post record"),
            XrpcResult.Rejected { Error: "RecordNotFound" } rejected => Explained(uri, NotFoundReason.Deleted, did, document.Handle, $"{host}: {rejected}"),
            XrpcResult.Rejected rejected when PdsAnswers.AccountReason(rejected.Error) is { } reason =>
                Explained(uri, reason, did, document.Handle, $"{host} getRecord: {rejected}"),
            XrpcResult.Rejected rejected => Unknown(uri, did, document.Handle, $"{host} getRecord: {rejected}"),
            XrpcResult.Unreachable unreachable => Unknown(uri, did, document.Handle, $"{host} getRecord: {unreachable.Reason}"),
            _ => throw new InvalidOperationException(record.GetType().Name),
        };
    }

    private static NotFoundExplanation Explained(string uri, string reason, string did, string? handle, string detail) =>
        new(uri, reason, $"not returned by the AppView: {reason} ({detail})", did, handle, null);

    private static NotFoundExplanation Unknown(string uri, string? did, string? handle, string detail) =>
        new(uri, NotFoundReason.Unknown, $"not returned by the AppView, and its PDS could not say why: {detail}", did, handle, null);

    private TimeSpan Backoff(long attempts)
    {
        var delay = TimeSpan.FromSeconds(_options.UnknownRetrySeconds * Math.Pow(2, Math.Min(attempts - 1, 20)));
        return delay < TimeSpan.FromDays(1) ? delay : TimeSpan.FromDays(1);
    }
}

/// <summary>A <c>not_found</c> post to explain, with the times its reason was already <c>unknown</c>.</summary>
public sealed record UnexplainedPost(string PostUri, long Attempts);

/// <summary>An explanation as stored: an <c>unknown</c> one counts its attempts and says when to ask again.</summary>
public sealed record RecordedExplanation(NotFoundExplanation Explanation, long Attempts, DateTimeOffset? NextAttemptAt);
