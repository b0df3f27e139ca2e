using System.Data.Common;
using System.Globalization;
using Dapper;
using Microsoft.Data.Sqlite;

namespace PostService.Storage;

/// <summary>
/// Consistent copies of the SQLite file, written with VACUUM INTO (which cannot run inside a transaction): the backup
/// the migrator takes before it rebuilds a legacy table, and the throwaway copy a dry run migrates.
/// </summary>
public sealed class SqliteBackup(IDbConnectionFactory connections, TimeProvider time)
{
    private const string SelectFile = "SELECT file FROM pragma_database_list WHERE name = 'main'";

    private const string VacuumInto = "VACUUM INTO @Target";

    /// <summary>Writes <c>&lt;file&gt;.bak-&lt;UTC timestamp&gt;</c> next to the database and returns its path.</summary>
    public async Task<string> WriteAsync(CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var file = await connection.ExecuteScalarAsync<string>(new CommandDefinition(SelectFile, cancellationToken: cancellationToken));
        var target = $"{file}.bak-{time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmss.fff'Z'", CultureInfo.InvariantCulture)}";
        await CopyAsync(connection, target, cancellationToken);
        return target;
    }

    /// <summary>Copies the file at <paramref name="source"/> through a read-only connection, which leaves it exactly as it was.</summary>
    public static async Task CopyReadOnlyAsync(string source, string target, CancellationToken cancellationToken)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = source,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString());
        await connection.OpenAsync(cancellationToken);
        await CopyAsync(connection, target, cancellationToken);
    }

    // Written under a temporary name and then renamed, so that a copy cut short by a crash is never taken for a backup.
    private static async Task CopyAsync(DbConnection connection, string target, CancellationToken cancellationToken)
    {
        var partial = target + ".partial";
        File.Delete(partial);
        await connection.ExecuteAsync(new CommandDefinition(VacuumInto, new { Target = partial }, cancellationToken: cancellationToken));
        File.Move(partial, target);
    }
}
