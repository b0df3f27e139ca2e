using Microsoft.AspNetCore.Http.HttpResults;

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

    public static ProblemHttpResult Invalid(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid query", detail: detail);
}
