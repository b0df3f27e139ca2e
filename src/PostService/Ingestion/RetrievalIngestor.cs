using PostService.Contracts;
using PostService.Data;
using PostService.Hydration;

namespace PostService.Ingestion;

/// <summary>
/// Stores a batch of retrievals in one transaction (shared with concurrent batches, see <see cref="RetrievalWriter"/>):
/// every retrieval or none. Unseen post URIs get a <c>pending</c> row, invalid ones an <c>invalid</c> row; only after
/// the commit are new URIs handed to hydration.
/// </summary>
public sealed class RetrievalIngestor(RetrievalWriter writer, HydrationQueue queue, TimeProvider time, ILogger<RetrievalIngestor> logger)
{
    public async Task<IngestResponse> IngestAsync(IReadOnlyList<Retrieval> retrievals, CancellationToken cancellationToken)
    {
        var receivedAt = DbTime.ToText(time.GetUtcNow());
        var (valid, invalid) = CanonicalPosts(retrievals);
        var rows = new RetrievalRows(
            retrievals.Select(retrieval => new FeedRequestRow(
                retrieval.Id, retrieval.RequesterDid, retrieval.Algo, retrieval.Timestamp, retrieval.PostsJson, receivedAt)).ToList(),
            retrievals.SelectMany(retrieval => retrieval.Posts.Select(post =>
                new FeedRequestPostRow(retrieval.Id, post.Position, post.Uri, post.RawJson))).ToList(),
            valid, invalid);
        var (replaced, newUris) = await writer.WriteAsync(rows, cancellationToken);

        // A URI repeated within one request is one row; items without a URI are one row each.
        var storedPostRows = retrievals.Sum(retrieval => retrieval.Posts.Count(post => post.Uri is null)
            + retrieval.Posts.Where(post => post.Uri is not null).Select(post => post.Uri).Distinct().Count());
        var enqueued = newUris.Count(queue.TryEnqueue);
        logger.LogInformation(
            "Stored {Requests} feed requests ({Replaced} replaced), {PostRows} post rows, {NewPosts} new posts, {InvalidUris} invalid URIs, {Enqueued} queued for hydration",
            retrievals.Count, replaced, storedPostRows, newUris.Count, invalid.Count, enqueued);
        return new IngestResponse(retrievals.Count, replaced, storedPostRows, newUris.Count, invalid.Count, enqueued);
    }

    /// <summary>
    /// Each served URI once, in order of first appearance: valid ones with the first CID served with them, the
    /// others with the reason they are not the at-URI of a post.
    /// </summary>
    private static (List<(string PostUri, string? Cid)> Valid, List<(string PostUri, string Reason)> Invalid) CanonicalPosts(IReadOnlyList<Retrieval> retrievals)
    {
        var valid = new List<(string PostUri, string? Cid)>();
        var validIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var invalid = new List<(string PostUri, string Reason)>();
        var invalidSeen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var post in retrievals.SelectMany(retrieval => retrieval.Posts))
        {
            if (post.Uri is not { } uri)
            {
                continue;
            }
            if (validIndex.TryGetValue(uri, out var index))
            {
                valid[index] = (uri, valid[index].Cid ?? post.Cid);
                continue;
            }
            if (invalidSeen.Contains(uri))
            {
                continue;
            }
            var check = AtUri.CheckPostUri(uri);
            if (check.IsValid)
            {
                validIndex[uri] = valid.Count;
                valid.Add((uri, post.Cid));
            }
            else
            {
                invalidSeen.Add(uri);
                invalid.Add((uri, check.Reason!));
            }
        }
        return (valid, invalid);
    }
}
