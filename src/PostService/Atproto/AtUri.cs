using System.Text.RegularExpressions;

namespace PostService.Atproto;

/// <summary>The outcome of checking that a string is the at-URI of a post.</summary>
public readonly record struct PostUriCheck(bool IsValid, bool HasHandleAuthority, string? Reason);

/// <summary>
/// Syntax of <c>at://&lt;did or handle&gt;/app.bsky.feed.post/&lt;record key&gt;</c>, following the atproto
/// specifications for at-URIs, DIDs, handles and record keys. Only a post URI can be hydrated by getPosts.
/// </summary>
public static partial class AtUri
{
    public const string PostCollection = "app.bsky.feed.post";

    /// <summary>The atproto specification caps an at-URI at 8 KiB.</summary>
    public const int MaxLength = 8 * 1024;

    private const string Scheme = "at://";

    public static PostUriCheck CheckPostUri(string uri)
    {
        if (uri.Length > MaxLength)
        {
            return Invalid($"longer than {MaxLength} characters");
        }
        if (!uri.StartsWith(Scheme, StringComparison.Ordinal))
        {
            return Invalid("does not start with at://");
        }
        if (uri.AsSpan().IndexOfAny('?', '#') >= 0)
        {
            return Invalid("a post URI has no query or fragment");
        }
        var parts = uri[Scheme.Length..].Split('/');
        if (parts.Length != 3)
        {
            return Invalid("expected at://<did or handle>/app.bsky.feed.post/<record key>");
        }
        var (authority, collection, recordKey) = (parts[0], parts[1], parts[2]);
        if (collection != PostCollection)
        {
            return Invalid($"collection is '{collection}', not {PostCollection}");
        }
        if (!RecordKeyPattern().IsMatch(recordKey) || recordKey is "." or "..")
        {
            return Invalid("record key is not valid");
        }
        if (authority.StartsWith("did:", StringComparison.Ordinal))
        {
            return DidPattern().IsMatch(authority) ? new PostUriCheck(true, false, null) : Invalid("authority is not a valid DID");
        }
        return HandlePattern().IsMatch(authority) ? new PostUriCheck(true, true, null) : Invalid("authority is neither a DID nor a handle");
    }

    private static PostUriCheck Invalid(string reason) => new(false, false, $"invalid post at-URI: {reason}");

    [GeneratedRegex("^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$")]
    private static partial Regex DidPattern();

    [GeneratedRegex(@"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$")]
    private static partial Regex HandlePattern();

    [GeneratedRegex("^[a-zA-Z0-9._:~-]{1,512}$")]
    private static partial Regex RecordKeyPattern();
}
