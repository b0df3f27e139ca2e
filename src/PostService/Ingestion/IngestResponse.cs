namespace PostService.Ingestion;

/// <summary>
/// What <c>POST /feed-retrievals</c> stored. <see cref="IdenticalCopies"/>: byte-identical copies of a retrieval in the
/// batch, stored once. <see cref="RepeatedUris"/>: post items repeating a URI served earlier in the same retrieval,
/// stored as one row at the last position and kept verbatim in the request's posts_json.
/// </summary>
public sealed record IngestResponse(
    int RequestsStored,
    int RequestsReplaced,
    int PostRows,
    int NewPosts,
    int InvalidUris,
    int Enqueued,
    int IdenticalCopies,
    int RepeatedUris);
