using System.Globalization;

namespace PostService.Storage;

/// <summary>
/// Timestamps are stored as ISO-8601 UTC text with millisecond precision, the format the Python tool's files
/// already hold, so that text order equals time order and <c>since</c>/<c>until</c> filters work on the column.
/// </summary>
public static class DbTime
{
    private const string Format = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public static string ToText(DateTimeOffset value) => value.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture);

    public static bool TryParse(string? text, out DateTimeOffset value) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);

    /// <summary>A query's time as stored, or null when absent; false when it is not a time.</summary>
    public static bool TryNormalize(string? text, out string? normalized)
    {
        normalized = null;
        if (text is null)
        {
            return true;
        }
        if (!TryParse(text, out var value))
        {
            return false;
        }
        normalized = ToText(value);
        return true;
    }
}
