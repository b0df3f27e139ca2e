using System.Data.Common;
using Dapper;

namespace PostService.Storage.Migrations;

/// <summary>Questions migrations ask about an existing SQLite file before they change it.</summary>
public static class SqliteSchema
{
    private const string SelectUniqueIndexColumns = """
        SELECT (SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_index_info(il.name) ORDER BY seqno))
        FROM pragma_index_list(@table) il
        WHERE il."unique" = 1
        """;

    public static async Task<bool> TableExistsAsync(DbConnection connection, DbTransaction? transaction, string table) =>
        await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = @table", new { table }, transaction) > 0;

    public static async Task<IReadOnlySet<string>> ColumnsAsync(DbConnection connection, DbTransaction? transaction, string table)
    {
        var names = await connection.QueryAsync<string>(
            "SELECT name FROM pragma_table_info(@table)", new { table }, transaction);
        return names.ToHashSet(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Whether a UNIQUE constraint or unique index covers exactly <paramref name="columns"/>, in that order.</summary>
    public static async Task<bool> HasUniqueKeyAsync(DbConnection connection, DbTransaction? transaction, string table, params string[] columns)
    {
        var keys = await connection.QueryAsync<string>(SelectUniqueIndexColumns, new { table }, transaction);
        return keys.Contains(string.Join(',', columns), StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Adds each column the table lacks; a column that is already there is left as it is.</summary>
    public static async Task AddMissingColumnsAsync(
        DbConnection connection, DbTransaction transaction, string table, IEnumerable<(string Name, string Definition)> columns)
    {
        var existing = await ColumnsAsync(connection, transaction, table);
        foreach (var (name, definition) in columns)
        {
            if (!existing.Contains(name))
            {
                await connection.ExecuteAsync($"ALTER TABLE {table} ADD COLUMN {name} {definition}", transaction: transaction);
            }
        }
    }
}
