namespace PostService.Ingestion;

/// <summary>One served post, as the feed bot sent it. <see cref="RawJson"/> is the item verbatim.</summary>
public sealed record RetrievalPost(string? Uri, string? Cid, int? Position, string RawJson);

/// <summary>One feed request, checked and normalized, ready to store.</summary>
public sealed record Retrieval(
    long Id,
    string RequesterDid,
    string? Algo,
    string Timestamp,
    string PostsJson,
    IReadOnlyList<RetrievalPost> Posts);

/// <summary>
/// A checked batch: its retrievals in the order first sent, and how many byte-identical copies of a retrieval it
/// also held (stored once).
/// </summary>
public sealed record RetrievalBatch(IReadOnlyList<Retrieval> Retrievals, int IdenticalCopies);
