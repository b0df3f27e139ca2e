using System.Data.Common;
using System.Text.Json;
using PostService.Storage;

namespace PostService.Exports;

/// <summary>Reads one column of the current row as its <see cref="ExportColumnType"/>, the same way on both stores.</summary>
internal static class ExportValues
{
    public static string? Text(DbDataReader row, int ordinal) => row.IsDBNull(ordinal) ? null : row.GetString(ordinal);

    /// <summary>A UTC <see cref="DateTime"/>; null for no value, or for text an older tool left that is not a time.</summary>
    public static DateTime? Timestamp(DbDataReader row, int ordinal) =>
        !row.IsDBNull(ordinal) && DbTime.TryParse(row.GetString(ordinal), out var value) ? value.UtcDateTime : null;

    public static long? Int64(DbDataReader row, int ordinal) => row.IsDBNull(ordinal) ? null : Convert.ToInt64(row.GetValue(ordinal));

    /// <summary>A PostgreSQL boolean, or SQLite's 0 or 1.</summary>
    public static bool? Boolean(DbDataReader row, int ordinal) => row.IsDBNull(ordinal) ? null : Convert.ToBoolean(row.GetValue(ordinal));

    /// <summary>The seconds from the first time of <c>"from to"</c> to the second; null for no value or text that is not two times.</summary>
    public static double? SecondsBetween(DbDataReader row, int ordinal) =>
        Text(row, ordinal)?.Split(' ') is [var from, var to] && DbTime.TryParse(from, out var start) && DbTime.TryParse(to, out var end)
            ? (end - start).TotalSeconds
            : null;

    /// <summary>The strings of a JSON array; null for no value, or for text that is not an array of strings.</summary>
    public static string[]? TextList(DbDataReader row, int ordinal)
    {
        if (row.IsDBNull(ordinal))
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize<string[]>(row.GetString(ordinal));
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
