namespace PostService.Identity;

/// <summary>What a hidden post's record says, as its PDS serves it.</summary>
public sealed record PdsPostRecord(
    string Cid, string? CreatedAt, string? Text, string? Langs, string? ReplyParentUri, string? ReplyRootUri, string? EmbedType);

/// <summary>Why one post was not returned; <paramref name="Record"/> is set for <see cref="NotFoundReason.Hidden"/> posts.</summary>
/// <param name="Detail">What the PDS or the identity directory said, for <c>hydration_error</c>.</param>
public sealed record NotFoundExplanation(
    string PostUri, string Reason, string Detail, string? AuthorDid, string? AuthorHandle, PdsPostRecord? Record);
