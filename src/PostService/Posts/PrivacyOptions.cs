namespace PostService.Posts;

/// <summary>What the service keeps of posts their authors took back. Bound from <c>PostService:Privacy</c>.</summary>
public sealed class PrivacyOptions
{
    public const string Section = "PostService:Privacy";

    /// <summary>
    /// Blank the <c>text</c> of a post when it is tombstoned (<c>deleted_at</c> set), for studies whose ethics approval
    /// requires it. Done when the tombstone is written, not when rows are read, so that the text leaves the database
    /// itself and no reader (exports, hashtag lists, direct SQL) can forget to hide it.
    /// </summary>
    public bool RedactDeletedText { get; set; }
}
