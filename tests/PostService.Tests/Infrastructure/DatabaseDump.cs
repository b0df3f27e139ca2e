using System.Globalization;
using Microsoft.Data.Sqlite;

namespace PostService.Tests.Infrastructure;

/// <summary>
/// Every row of every table of a SQLite file, with its rowid and each value's storage class, and the schema: two
/// files with equal dumps hold the same data byte for byte.
/// </summary>
public static class DatabaseDump
{
    public static SqliteConnection Open(string path)
    {
        var connection = new SqliteConnection($"Data Source={path};Pooling=false");
        connection.Open();
        return connection;
    }

    /// <summary>Table name to its rows, in rowid order, each rendered as <c>rowid | type:value | ...</c>.</summary>
    public static SortedDictionary<string, IReadOnlyList<string>> Tables(string path, params string[] except)
    {
        using var connection = Open(path);
        var tables = new SortedDictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var table in Strings(connection, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").Except(except))
        {
            tables[table] = Rows(connection, table);
        }
        return tables;
    }

    public static IReadOnlyList<string> Rows(SqliteConnection connection, string table, string columns = "*")
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT rowid, {columns} FROM \"{table}\" ORDER BY rowid";
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            rows.Add(string.Join(" | ", Enumerable.Range(0, reader.FieldCount).Select(i => Render(reader.GetValue(i)))));
        }
        return rows;
    }

    /// <summary>The sqlite_master entries (type, name, table, SQL) of the given tables and their indexes, or of all.</summary>
    public static IReadOnlyList<string> Schema(string path, params string[] tables)
    {
        using var connection = Open(path);
        return Strings(connection, "SELECT type || ' ' || name || ' ON ' || tbl_name || ': ' || coalesce(sql, '') FROM sqlite_master ORDER BY type, name")
            .Where(entry => tables.Length == 0 || tables.Any(table => entry.Contains($" ON {table}: ", StringComparison.Ordinal)))
            .ToList();
    }

    public static IReadOnlyList<string> Strings(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var values = new List<string>();
        while (reader.Read())
        {
            values.Add(reader.GetString(0));
        }
        return values;
    }

    private static string Render(object value) => value switch
    {
        DBNull => "null",
        long integer => "integer:" + integer.ToString(CultureInfo.InvariantCulture),
        double real => "real:" + real.ToString("R", CultureInfo.InvariantCulture),
        string text => "text:" + text,
        byte[] blob => "blob:" + Convert.ToHexString(blob),
        _ => value.GetType().Name + ":" + value,
    };
}
