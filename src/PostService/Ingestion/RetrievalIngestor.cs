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
    public async Task<IngestResponse> IngestAsync(IReadOnlyList<Retrieval> retrievals, CancellationToken cancellationToken)
    {
        var receivedAt = DbTime.ToText(time.GetUtcNow());
        var (replaced, postRows, newUris, invalidUris) = await connections.WriteAsync(async (connection, transaction) =>
        {
            var replaced = 0;
            var postRows = 0;
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
                // A URI repeated within one request is one row; items without a URI are one row each.
                postRows += retrieval.Posts.Count(post => post.Uri is null)
                    + retrieval.Posts.Where(post => post.Uri is not null).Select(post => post.Uri).Distinct().Count();

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
            return (replaced, postRows, newUris, invalidUris.Count);
        }, cancellationToken);

        var enqueued = newUris.Count(queue.TryEnqueue);
        logger.LogInformation(
            "Stored {Requests} feed requests ({Replaced} replaced), {PostRows} post rows, {NewPosts} new posts, {InvalidUris} invalid URIs, {Enqueued} queued for hydration",
            retrievals.Count, replaced, postRows, newUris.Count, invalidUris, enqueued);
        return new IngestResponse(retrievals.Count, replaced, postRows, newUris.Count, invalidUris, enqueued);
    }
}
