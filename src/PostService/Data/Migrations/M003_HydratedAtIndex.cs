using System.Data.Common;
using Dapper;

namespace PostService.Data.Migrations;

/// <summary>
/// Lets the time-based coverage reports (failures per day, successes per minute) read a range of one status's
/// <c>last_hydrated_at</c> from a covering index instead of scanning every post of that status.
/// </summary>
public sealed class M003_HydratedAtIndex : IMigration
{
    private const string CreateIndex = """
        CREATE INDEX IF NOT EXISTS idx_posts_status_hydrated_at ON posts(hydration_status, last_hydrated_at);
        """;

    public int Version => 3;

    public string Name => "index posts by status and last_hydrated_at for coverage reports";

    public Task ApplyAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(CreateIndex, transaction: transaction, cancellationToken: cancellationToken));
}
