namespace PostService.Exports;

/// <summary>How a column is typed in the files: Parquet physical/logical types, and how CSV writes it.</summary>
public enum ExportColumnType
{
    /// <summary>UTF-8 string.</summary>
    Text,

    /// <summary>A UTC instant, millisecond precision: Parquet <c>TIMESTAMP(MILLIS, UTC)</c>, CSV ISO-8601 with <c>Z</c>.</summary>
    Timestamp,

    /// <summary>Parquet <c>INT64</c>.</summary>
    Int64,

    /// <summary>Parquet <c>LIST&lt;STRING&gt;</c>; CSV a JSON array (<c>["en","de"]</c>).</summary>
    TextList,

    /// <summary>Parquet <c>BOOLEAN</c>; CSV <c>true</c> or <c>false</c>.</summary>
    Boolean,

    /// <summary>
    /// Parquet <c>DOUBLE</c>: the seconds from one time to another, whose SQL selects both as <c>ts_text(from) || ' ' || ts_text(to)</c>
    /// (the stores share no arithmetic on times); no value when either is missing.
    /// </summary>
    SecondsBetween,
}

/// <summary>One column of a dataset: its name in the files, its type, and the SQL expression that selects it.</summary>
/// <param name="Sql">
/// Selected with <c>AS Name</c>. Times go through <c>ts_text()</c>, so both stores hand over the same ISO-8601 text;
/// lists are JSON arrays as text.
/// </param>
public sealed record ExportColumn(string Name, ExportColumnType Type, string Sql, string Description);
