using Dapper;
using PostService.Storage;

namespace PostService.Storage;

/// <summary>One query on a connection of its own, for repository reads that need nothing else from the connection.</summary>
public static class ConnectionFactoryQueries
{
    public static async Task<IReadOnlyList<T>> QueryListAsync<T>(
        this IDbConnectionFactory connections, string sql, object? parameters, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<T>(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken));
        return rows.AsList();
    }

    public static async Task<T?> QuerySingleOrDefaultAsync<T>(
        this IDbConnectionFactory connections, string sql, object? parameters, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<T>(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken));
    }
}
