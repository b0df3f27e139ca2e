namespace PostService.Upstream.AppView;

/// <summary>The parts of an AppView postView that PostService keeps.</summary>
/// <param name="IndexedAt">As sent by the AppView; kept as a string so nothing is lost in parsing.</param>
/// <param name="CreatedAt">The record's client-declared <c>createdAt</c>, as sent.</param>
/// <param name="EmbedType">The view's <c>$type</c>, e.g. <c>app.bsky.embed.images#view</c>.</param>
/// <param name="Hashtags">The record's <c>#tag</c> facets and <c>tags</c>, normalised (<see cref="Atproto.Hashtag"/>); null when it has none.</param>
/// <param name="Media">What the post embeds (<see cref="Atproto.PostMedia"/>); null when nothing.</param>
/// <param name="Source">Where the values came from: <c>appview</c> (getPosts) or <c>firehose</c> (its cache, no call).</param>
public sealed record HydratedPost(
    string Uri,
    string Cid,
    string AuthorDid,
    string AuthorHandle,
    string IndexedAt,
    string? CreatedAt,
    string? Text,
    IReadOnlyList<string>? Langs,
    string? ReplyParentUri,
    string? ReplyRootUri,
    string? EmbedType,
    long? LikeCount,
    long? RepostCount,
    long? ReplyCount,
    long? QuoteCount,
    IReadOnlyList<string>? Hashtags = null,
    IReadOnlyList<Atproto.MediaItem>? Media = null,
    string Source = HydratedPost.FromAppView)
{
    public const string FromAppView = "appview";
    public const string FromFirehose = "firehose";
}
