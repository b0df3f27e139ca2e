using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using PostService.Atproto;

namespace PostService.Ingestion;

/// <summary>
/// The shape of <c>POST /feed-retrievals</c>, for the OpenAPI document: what <see cref="RetrievalBatchParser"/> enforces.
/// The endpoint reads the body itself, so that it can accept the feed generator's synonyms and name the exact retrieval
/// and field that is wrong. A null value counts as absent.
/// </summary>
public sealed record FeedRetrievalBatch(
    [property: Description("The retrievals to store, at most PostService__Ingestion__MaxRetrievalsPerBatch. Synonym: compliance.")]
    IReadOnlyList<FeedRetrieval> Retrievals);

/// <summary>One feed request as the feed generator's compliance endpoint records it.</summary>
public sealed record FeedRetrieval(
    [property: Description("The feed request's id; re-sending it in a later batch replaces the request.")]
    long Id,
    [property: Description("Who asked for the feed. Synonym: user_did."), MaxLength(RetrievalBatchParser.MaxDidLength)]
    string RequesterDid,
    [property: Description("When the feed was served: an ISO-8601 date and time (without an offset, UTC)."), MaxLength(RetrievalBatchParser.MaxTimestampLength)]
    string Timestamp,
    [property: Description("The feed generator's algorithm."), MaxLength(RetrievalBatchParser.MaxAlgoLength)]
    string? Algo = null,
    [property: Description("The posts served, at most PostService__Ingestion__MaxPostsPerRetrieval; absent means none.")]
    IReadOnlyList<FeedRetrievalPost>? Posts = null);

/// <summary>A served post, kept verbatim with any other fields it has.</summary>
public sealed record FeedRetrievalPost(
    [property: Description("The post's at-URI; one that is not a valid post at-URI is stored as an invalid post. Synonym: postUri."), MaxLength(AtUri.MaxLength)]
    string? Uri = null,
    [property: Description("The record's CID."), MaxLength(RetrievalBatchParser.MaxCidLength)]
    string? Cid = null,
    [property: Description("The position in the feed: a non-negative integer, a numeric string of one (\"15\") or an integral float (7.0); anything else is stored as unknown.")]
    JsonElement? Position = null);
