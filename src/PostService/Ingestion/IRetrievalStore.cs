namespace PostService.Ingestion;

/// <summary>
/// Writes one request's rows in a transaction of its own or shared with others, and returns only after that
/// transaction committed. Within the transaction, stored requests with the same ids are replaced; a known post keeps
/// its row and only gains a CID it lacked; an unseen URI gets a <c>pending</c> row, or <c>invalid</c> with its reason.
/// One implementation per store.
/// </summary>
public interface IRetrievalStore
{
    Task<RetrievalWrite> WriteAsync(RetrievalRows rows, CancellationToken cancellationToken);
}
