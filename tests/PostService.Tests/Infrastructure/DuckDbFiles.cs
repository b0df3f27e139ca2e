using DuckDB.NET.Data;

namespace PostService.Tests.Infrastructure;

/// <summary>An independent reader for exported files: DuckDB in process, each value as DuckDB renders it in text.</summary>
public static class DuckDbFiles
{
    /// <summary>The rows of <paramref name="sql"/>, each value cast to text (null stays null).</summary>
    public static List<string?[]> Query(string sql)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<string?[]>();
        while (reader.Read())
        {
            rows.Add(Enumerable.Range(0, reader.FieldCount)
                .Select(ordinal => reader.IsDBNull(ordinal) ? null : Convert.ToString(reader.GetValue(ordinal), System.Globalization.CultureInfo.InvariantCulture))
                .ToArray());
        }
        return rows;
    }

    public static string? Scalar(string sql) => Query(sql).Single().Single();

    /// <summary>A path quoted as a DuckDB string literal.</summary>
    public static string Literal(string path) => "'" + path.Replace("'", "''", StringComparison.Ordinal) + "'";
}
