using PostService.Atproto;
using PostService.Hydration;
using PostService.Storage;

namespace PostService.Ingestion;

/// <summary>
/// Stores a batch of retrievals in one transaction: every retrieval or none. Unseen post URIs get a
/// <c>pending</c> row, invalid ones an <c>invalid</c> row; only after the commit are new URIs handed to hydration.
/// </summary>
public sealed class RetrievalIngestor(
    IRetrievalStore store, IngestEventLog eventLog, HydrationQueue queue, TimeProvider time, ILogger<RetrievalIngestor> logger)
{
    /// <summary>Stores a batch received now; <paramref name="body"/>, the request body, goes to the event log with it.</summary>
    public Task<IngestResponse> IngestAsync(RetrievalBatch batch, ReadOnlySpan<byte> body, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return StoreAsync(batch, now, eventLog.Capture(body, batch.Retrievals.Count, now), cancellationToken);
    }

    /// <summary>Stores a logged batch again as it was received (replay): the same rows, and no second log entry.</summary>
    public Task<IngestResponse> ReplayAsync(RetrievalBatch batch, DateTimeOffset receivedAt, CancellationToken cancellationToken) =>
        StoreAsync(batch, receivedAt, null, cancellationToken);

    private async Task<IngestResponse> StoreAsync(RetrievalBatch batch, DateTimeOffset received, IngestEvent? logged, CancellationToken cancellationToken)
    {
        var retrievals = batch.Retrievals;
        var receivedAt = DbTime.ToText(received);
        // Ids are distinct: the parser keeps one of identical copies and refuses two different retrievals under one id.
        var requests = retrievals.Select(retrieval => new FeedRequestRow(
            retrieval.Id, retrieval.RequesterDid, retrieval.Algo, retrieval.Timestamp, retrieval.PostsJson, receivedAt)).ToList();
        var servedRows = retrievals.SelectMany(ServedRows).ToList();
        var cids = CidsServed(retrievals);
        var served = servedRows.Where(row => row.PostUri is not null)
            .Select(row => row.PostUri!).Distinct(StringComparer.Ordinal)
            .Select(uri => new NewPost(uri, cids.GetValueOrDefault(uri), AtUri.CheckPostUri(uri).Reason))
            .ToList();

        var (replaced, newUris) = await store.WriteAsync(new RetrievalRows(requests, servedRows, served, logged), cancellationToken);

        var invalidUris = served.Count(post => post.InvalidReason is not null);
        var enqueued = newUris.Count(queue.TryEnqueue);
        logger.LogInformation(
            "Stored {Requests} feed requests ({Replaced} replaced), {PostRows} post rows, {NewPosts} new posts, {InvalidUris} invalid URIs, {Enqueued} queued for hydration",
            requests.Count, replaced, servedRows.Count, newUris.Count, invalidUris, enqueued);
        // Every item stays in posts_json; a URI repeated within one retrieval is one row.
        var repeatedUris = retrievals.Sum(retrieval => retrieval.Posts.Count(post => post.Uri is not null))
            - servedRows.Count(row => row.PostUri is not null);
        if (batch.IdenticalCopies > 0 || repeatedUris > 0)
        {
            logger.LogWarning(
                "The batch held {IdenticalCopies} identical copies of a retrieval (stored once) and {RepeatedUris} posts repeating a URI of the same retrieval (one row each URI, all kept in posts_json)",
                batch.IdenticalCopies, repeatedUris);
        }
        return new IngestResponse(retrievals.Count, replaced, servedRows.Count, newUris.Count, invalidUris, enqueued, batch.IdenticalCopies, repeatedUris);
    }

    /// <summary>
    /// The rows a retrieval stores: one per item without a URI, one per distinct URI, where a URI served twice keeps the
    /// latest item's position and JSON, as the Python tool's INSERT OR REPLACE did.
    /// </summary>
    private static IEnumerable<FeedRequestPostRow> ServedRows(Retrieval retrieval)
    {
        var latestByUri = new Dictionary<string, RetrievalPost>(StringComparer.Ordinal);
        foreach (var post in retrieval.Posts.Where(post => post.Uri is not null))
        {
            latestByUri[post.Uri!] = post;
        }
        foreach (var post in retrieval.Posts)
        {
            if (post.Uri is null)
            {
                yield return new FeedRequestPostRow(retrieval.Id, post.Position, null, post.RawJson);
            }
            else if (latestByUri.Remove(post.Uri, out var latestItem))
            {
                yield return new FeedRequestPostRow(retrieval.Id, latestItem.Position, post.Uri, latestItem.RawJson);
            }
        }
    }

    /// <summary>For each URI, the first CID the batch gives it.</summary>
    private static Dictionary<string, string> CidsServed(IEnumerable<Retrieval> retrievals)
    {
        var cids = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var post in retrievals.SelectMany(retrieval => retrieval.Posts))
        {
            if (post is { Uri: not null, Cid: not null })
            {
                cids.TryAdd(post.Uri, post.Cid);
            }
        }
        return cids;
    }
}
