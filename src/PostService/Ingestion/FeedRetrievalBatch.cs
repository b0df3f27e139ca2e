using System.Text.Json;

namespace PostService.Ingestion;

/// <summary>
/// The shape of <c>POST /feed-retrievals</c>, for the OpenAPI document. The endpoint reads the body itself, so that
/// it can accept the feed generator's synonyms and name the exact retrieval and field that is wrong.
/// </summary>
public sealed record FeedRetrievalBatch(IReadOnlyList<FeedRetrieval> Retrievals);

/// <summary>One feed request as the feed generator's compliance endpoint records it.</summary>
public sealed record FeedRetrieval(long Id, string RequesterDid, string? Algo, string Timestamp, IReadOnlyList<FeedRetrievalPost>? Posts);

/// <summary>A served post. <c>position</c> may be an integer, a numeric string or an integral float; the item is kept verbatim.</summary>
public sealed record FeedRetrievalPost(string? Uri, string? Cid, JsonElement? Position);
