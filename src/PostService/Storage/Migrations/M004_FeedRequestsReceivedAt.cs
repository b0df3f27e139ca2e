using System.Data.Common;
using Dapper;

namespace PostService.Storage.Migrations;

/// <summary>
/// <c>feed_requests.received_at</c>, which the Python tool did not record. ALTER TABLE can add a NOT NULL column only
/// with a constant default, so the column gets <c>''</c> and each legacy request is then taken as received when it was
/// served (its <c>timestamp</c>). On a file created by PostService the column is already there and this does nothing.
/// </summary>
public sealed class M004_FeedRequestsReceivedAt : ILegacySqliteMigration
{
    private static readonly (string Name, string Definition)[] Columns = [("received_at", "TEXT NOT NULL DEFAULT ''")];

    private const string FillFromTimestamp = "UPDATE feed_requests SET received_at = timestamp WHERE received_at = ''";

    public int Version => 4;

    public string Name => "feed_requests.received_at for legacy requests";

    public async Task ApplySqliteAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await SqliteSchema.AddMissingColumnsAsync(connection, transaction, "feed_requests", Columns);
        await connection.ExecuteAsync(new CommandDefinition(FillFromTimestamp, transaction: transaction, cancellationToken: cancellationToken));
    }
}
