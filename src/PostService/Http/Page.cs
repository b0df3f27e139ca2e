using Microsoft.AspNetCore.Http.HttpResults;
using PostService.Storage;

namespace PostService.Http;

/// <summary>A page of results; pass <see cref="NextCursor"/> back as <c>cursor</c> for the next page, until it is null.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

/// <summary>Keyset pages: a query's <c>limit</c> and <c>cursor</c> in, the next cursor out.</summary>
public static class KeysetPage
{
    /// <summary>The problem with a cursor this service did not hand out.</summary>
    public static ProblemHttpResult NotIssued => Query.Invalid("cursor is not one this service issued.");

    /// <summary>The page size and the key the page starts after, or the problem with <paramref name="limit"/> or <paramref name="cursor"/>.</summary>
    public static ProblemHttpResult? Check(int? limit, string? cursor, int defaultSize, int maxSize, out int pageSize, out string? afterKey)
    {
        afterKey = null;
        pageSize = Query.CheckLimit(limit, defaultSize, maxSize) ?? 0;
        if (pageSize == 0)
        {
            return Query.Invalid($"limit must be between 1 and {maxSize}.");
        }
        return Cursor.TryDecode(cursor, out afterKey) ? null : NotIssued;
    }

    /// <summary>
    /// As <see cref="Check(int?, string?, int, int, out int, out string?)"/>, with the <c>[since, until)</c> window of the
    /// query too, its times as stored.
    /// </summary>
    public static ProblemHttpResult? Check(int? limit, string? cursor, string? since, string? until, int defaultSize, int maxSize,
        out int pageSize, out string? afterKey, out string? sinceText, out string? untilText)
    {
        (sinceText, untilText) = (null, null);
        if (Check(limit, cursor, defaultSize, maxSize, out pageSize, out afterKey) is { } invalid)
        {
            return invalid;
        }
        return DbTime.TryNormalize(since, out sinceText) && DbTime.TryNormalize(until, out untilText)
            ? null
            : Query.Invalid("since and until must be ISO-8601 dates or date-times.");
    }

    /// <summary>The page of <paramref name="items"/>; a full page has a next cursor, the key of its last item.</summary>
    public static Page<T> Of<T>(IReadOnlyList<T> items, int pageSize, Func<T, string> keyOf) =>
        new(items, items.Count == pageSize ? Cursor.Encode(keyOf(items[^1])) : null);
}
