namespace PostService.Identity;

/// <summary>Why the AppView did not return a post, as the author's PDS explains it (<c>posts.not_found_reason</c>).</summary>
public static class NotFoundReason
{
    /// <summary>The PDS answers <c>RecordNotFound</c>: the author deleted the post.</summary>
    public const string Deleted = "deleted";

    /// <summary>The PDS still serves the record; the AppView hides it (moderation takedown, labels, blocks).</summary>
    public const string Hidden = "hidden";

    public const string AccountDeactivated = "account_deactivated";
    public const string AccountTakendown = "account_takendown";
    public const string AccountSuspended = "account_suspended";
    public const string AccountDeleted = "account_deleted";

    /// <summary>The PDS could not be reached, or answered something else; asked again later.</summary>
    public const string Unknown = "unknown";

    public static readonly IReadOnlyList<string> All = [Deleted, Hidden, AccountDeactivated, AccountTakendown, AccountSuspended, AccountDeleted, Unknown];
}
