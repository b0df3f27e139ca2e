using System.Data.Common;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace PostService.Storage;

/// <summary>
/// One statement prepared once on a SQLite connection and run once per row, its values bound by position, in the
/// caller's transaction: for a writer's loops over thousands of rows, where Microsoft.Data.Sqlite's work per execution
/// (a data reader, each parameter looked up by name, its type mapped) cost about as much as SQLite's own.
/// </summary>
public sealed class SqliteRowStatement : IDisposable
{
    private readonly sqlite3 _database;
    private readonly sqlite3_stmt _statement;

    public SqliteRowStatement(DbConnection connection, string sql)
    {
        _database = ((SqliteConnection)connection).Handle ?? throw new InvalidOperationException("The connection is not open.");
        SqliteException.ThrowExceptionForRC(raw.sqlite3_prepare_v2(_database, sql, out _statement), _database);
    }

    /// <summary>Runs the statement with <paramref name="values"/> bound in order; returns the rows it changed.</summary>
    public int Run(params ReadOnlySpan<object?> values)
    {
        Step(values);
        raw.sqlite3_reset(_statement);
        return raw.sqlite3_changes(_database);
    }

    /// <summary>
    /// Runs a query with <paramref name="values"/> bound in order; true and its first row in <paramref name="row"/>
    /// (readable until the statement runs again) when it returned one.
    /// </summary>
    public bool TryQuery(out Row row, params ReadOnlySpan<object?> values)
    {
        row = new Row(_statement);
        return Step(values) == raw.SQLITE_ROW;
    }

    public void Dispose() => _statement.Dispose();

    /// <summary>The current row of a <see cref="TryQuery"/>.</summary>
    public readonly struct Row(sqlite3_stmt statement)
    {
        public long GetInt64(int column) => raw.sqlite3_column_int64(statement, column);

        public bool IsNull(int column) => raw.sqlite3_column_type(statement, column) == raw.SQLITE_NULL;
    }

    /// <summary>Binds <paramref name="values"/> in order and takes one step: <c>SQLITE_ROW</c> or <c>SQLITE_DONE</c>, or throws.</summary>
    private int Step(ReadOnlySpan<object?> values)
    {
        raw.sqlite3_reset(_statement);
        for (var i = 0; i < values.Length; i++)
        {
            SqliteException.ThrowExceptionForRC(Bind(i + 1, values[i]), _database);
        }
        var result = raw.sqlite3_step(_statement);
        if (result != raw.SQLITE_ROW && result != raw.SQLITE_DONE)
        {
            SqliteException.ThrowExceptionForRC(result, _database);
        }
        return result;
    }

    private int Bind(int index, object? value) => value switch
    {
        null => raw.sqlite3_bind_null(_statement, index),
        string text => raw.sqlite3_bind_text(_statement, index, text),
        long number => raw.sqlite3_bind_int64(_statement, index, number),
        int number => raw.sqlite3_bind_int64(_statement, index, number),
        byte[] blob => raw.sqlite3_bind_blob(_statement, index, blob),
        _ => throw new ArgumentException($"A {value.GetType().Name} cannot be bound here.", nameof(value)),
    };
}
