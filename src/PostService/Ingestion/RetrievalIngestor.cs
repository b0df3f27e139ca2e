using PostService.Contracts;
using PostService.Data;
using PostService.Hydration;

namespace PostService.Ingestion;

/// <summary>
/// Stores a batch of retrievals in one transaction: every retrieval or none. Unseen post URIs get a
/// <c>pending</c> row, invalid ones an <c>invalid</c> row; only after the commit are new URIs handed to hydration.
/// </summary>
public sealed class RetrievalIngestor(IDbConnectionFactory connections, HydrationQueue queue, TimeProvider time, ILogger<RetrievalIngestor> logger)
{
    public async Task<IngestResponse> IngestAsync(RetrievalBatch batch, CancellationToken cancellationToken)
    {
        var retrievals = batch.Retrievals;
        var receivedAt = DbTime.ToText(time.GetUtcNow());
        var (replaced, postRows, repeatedUris, newUris, invalidUris) = await connections.WriteAsync(async (connection, transaction) =>
        {
            var replaced = 0;
            var postRows = 0;
            var repeatedUris = 0;
            var newUris = new List<string>();
            var invalidUris = new HashSet<string>(StringComparer.Ordinal);
            foreach (var retrieval in retrievals)
            {
                if (await FeedRequestsRepository.DeleteAsync(connection, transaction, retrieval.Id))
                {
                    replaced++;
                }
                await FeedRequestsRepository.InsertAsync(connection, transaction, new FeedRequestRow(
                    retrieval.Id, retrieval.RequesterDid, retrieval.Algo, retrieval.Timestamp, retrieval.PostsJson, receivedAt));
                await FeedRequestsRepository.InsertPostsAsync(connection, transaction, retrieval.Posts.Select(post =>
                    new FeedRequestPostRow(retrieval.Id, post.Position, post.Uri, post.RawJson)));
                // A URI repeated within one request is one row, at its last position (every item stays in posts_json);
                // items without a URI are one row each.
                var withUri = retrieval.Posts.Count(post => post.Uri is not null);
                var distinctUris = retrieval.Posts.Where(post => post.Uri is not null).Select(post => post.Uri).Distinct().Count();
                postRows += retrieval.Posts.Count - withUri + distinctUris;
                repeatedUris += withUri - distinctUris;

                foreach (var post in retrieval.Posts)
                {
                    if (post.Uri is null)
                    {
                        continue;
                    }
                    var check = AtUri.CheckPostUri(post.Uri);
                    if (!check.IsValid)
                    {
                        invalidUris.Add(post.Uri);
                        await PostsRepository.InsertInvalidAsync(connection, transaction, post.Uri, check.Reason!);
                    }
                    else if (await PostsRepository.InsertPendingAsync(connection, transaction, post.Uri, post.Cid))
                    {
                        newUris.Add(post.Uri);
                    }
                }
            }
            return (replaced, postRows, repeatedUris, newUris, invalidUris.Count);
        }, cancellationToken);

        var enqueued = newUris.Count(queue.TryEnqueue);
        logger.LogInformation(
            "Stored {Requests} feed requests ({Replaced} replaced), {PostRows} post rows, {NewPosts} new posts, {InvalidUris} invalid URIs, {Enqueued} queued for hydration",
            retrievals.Count, replaced, postRows, newUris.Count, invalidUris, enqueued);
        if (batch.IdenticalCopies > 0 || repeatedUris > 0)
        {
            logger.LogWarning(
                "The batch held {IdenticalCopies} identical copies of a retrieval (stored once) and {RepeatedUris} posts repeating a URI of the same retrieval (one row each URI, all kept in posts_json)",
                batch.IdenticalCopies, repeatedUris);
        }
        return new IngestResponse(retrievals.Count, replaced, postRows, newUris.Count, invalidUris, enqueued, batch.IdenticalCopies, repeatedUris);
    }
}
