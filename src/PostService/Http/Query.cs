using Microsoft.AspNetCore.Http.HttpResults;
using PostService.Storage;

namespace PostService.Http;

/// <summary>Checks shared by the list endpoints' query strings.</summary>
public static class Query
{
    /// <summary>The page size to use, or null when <paramref name="limit"/> is out of range.</summary>
    public static int? CheckLimit(int? limit, int defaultSize, int maxSize) =>
        limit switch
        {
            null => defaultSize,
            >= 1 when limit <= maxSize => limit,
            _ => null,
        };

    /// <summary>
    /// The page size and the <c>[since, until)</c> window of a list query, times as stored; the problem with them otherwise.
    /// </summary>
    public static ProblemHttpResult? CheckPageAndWindow(
        int? limit, int defaultSize, int maxSize, string? since, string? until, out int pageSize, out string? sinceText, out string? untilText)
    {
        (sinceText, untilText) = (null, null);
        pageSize = CheckLimit(limit, defaultSize, maxSize) ?? 0;
        if (pageSize == 0)
        {
            return Invalid($"limit must be between 1 and {maxSize}.");
        }
        return DbTime.TryNormalize(since, out sinceText) && DbTime.TryNormalize(until, out untilText)
            ? null
            : Invalid("since and until must be ISO-8601 dates or date-times.");
    }

    public static ProblemHttpResult Invalid(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid query", detail: detail);
}
