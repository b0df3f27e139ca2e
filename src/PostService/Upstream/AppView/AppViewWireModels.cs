using System.Text.Json;
using System.Text.Json.Serialization;

namespace PostService.Upstream.AppView;

// Wire shapes of app.bsky.feed.getPosts (lexicons app.bsky.feed.defs#postView, app.bsky.actor.defs#profileViewBasic).
// Everything is nullable because the AppView is not trusted: required fields are checked when mapping, so one
// bad post is skipped instead of failing the batch. Fields not declared here are ignored by the serializer.

internal sealed record GetPostsResponse(IReadOnlyList<PostView?>? Posts);

internal sealed record PostView(
    string? Uri,
    string? Cid,
    ProfileViewBasic? Author,
    JsonElement Record,
    JsonElement? Embed,
    string? IndexedAt,
    long? LikeCount,
    long? RepostCount,
    long? ReplyCount,
    long? QuoteCount);

internal sealed record ProfileViewBasic(string? Did, string? Handle);

/// <summary>The XRPC error body, <c>{"error": "...", "message": "..."}</c>.</summary>
internal sealed record XrpcError(string? Error, string? Message);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(GetPostsResponse))]
[JsonSerializable(typeof(XrpcError))]
internal sealed partial class AppViewJsonContext : JsonSerializerContext;
