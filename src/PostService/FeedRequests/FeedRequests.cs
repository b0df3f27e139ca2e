using System.Text.Json.Serialization;

namespace PostService.FeedRequests;

/// <summary>One feed request as stored, without its posts.</summary>
public class FeedRequestSummary
{
    public long RequestId { get; init; }
    public required string RequesterDid { get; init; }
    public string? Algo { get; init; }
    public required string Timestamp { get; init; }
    public required string ReceivedAt { get; init; }
    public long PostCount { get; init; }
}

/// <summary>A post served in a feed request, joined with the canonical post row for its author.</summary>
public sealed class ServedPost
{
    public long? PostIndex { get; init; }
    public string? PostUri { get; init; }
    public string? AuthorDid { get; init; }
    public string? AuthorHandle { get; init; }
    public string? HydrationStatus { get; init; }

    /// <summary>The item exactly as the feed bot sent it.</summary>
    public string? PostJson { get; init; }
}

/// <summary>One feed request with the posts it served, in position order.</summary>
public sealed class FeedRequestDetail : FeedRequestSummary
{
    [JsonPropertyOrder(1)]
    public IReadOnlyList<ServedPost> Posts { get; init; } = [];
}
