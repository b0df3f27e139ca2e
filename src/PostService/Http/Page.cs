using Microsoft.AspNetCore.Http.HttpResults;
using PostService.Storage;

namespace PostService.Http;

/// <summary>A page of results; pass <see cref="NextCursor"/> back as <c>cursor</c> for the next page, until it is null.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

/// <summary>Keyset pages: a query's <c>limit</c> and <c>cursor</c> in, the next cursor out.</summary>
public static class KeysetPage
{
    /// <summary>The page size and the key the page starts after, or the problem with <paramref name="limit"/> or <paramref name="cursor"/>.</summary>
    public static ProblemHttpResult? Check(int? limit, string? cursor, int defaultSize, int maxSize, out int pageSize, out string? afterKey)
    {
        afterKey = null;
        pageSize = Query.CheckLimit(limit, defaultSize, maxSize) ?? 0;
        if (pageSize == 0)
        {
            return Query.Invalid($"limit must be between 1 and {maxSize}.");
        }
        return Cursor.TryDecode(cursor, out afterKey) ? null : Query.Invalid("cursor is not one this service issued.");
    }

    /// <summary>The page of <paramref name="items"/>; a full page has a next cursor, the key of its last item.</summary>
    public static Page<T> Of<T>(IReadOnlyList<T> items, int pageSize, Func<T, string> keyOf) =>
        new(items, items.Count == pageSize ? Cursor.Encode(keyOf(items[^1])) : null);
}
