using PostService.Cli;
using PostService.Storage;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Cli;

/// <summary>The verbs without <c>--db</c>, on the configured PostgreSQL database.</summary>
public sealed class PostgresCliTests : IRunsOnPostgres, IDisposable
{
    private readonly TestDatabase _database = TestDatabase.Create(DatabaseProvider.Postgres);

    public void Dispose() => _database.Dispose();

    [DatabaseFact]
    public async Task MigrateAppliesEveryStepOnceAndReportReadsTheMigratedDatabase()
    {
        var first = await CliRunner.RunAsync(["migrate"], _database.Settings);
        var second = await CliRunner.RunAsync(["migrate"], _database.Settings);
        var report = await CliRunner.RunAsync(["report", "--json"], _database.Settings);

        Assert.True(first.ExitCode == ExitCodes.Ok, first.Output + first.Error);
        Assert.Contains("7. hydration claims", first.Output);
        Assert.Matches(@"schema_version\W+-\W+8\W", first.Output);
        Assert.Equal(8, _database.Count("SELECT count(*) FROM schema_version"));
        Assert.Equal(ExitCodes.Ok, second.ExitCode);
        Assert.Contains("The schema is current; nothing to migrate.", second.Output);
        Assert.Equal(ExitCodes.Ok, report.ExitCode);
        Assert.Contains("\"total_posts\": 0", report.Output);
    }

    [DatabaseFact]
    public async Task ADryRunIsRefusedOnPostgres()
    {
        var result = await CliRunner.RunAsync(["migrate", "--dry-run"], _database.Settings);

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Contains("--dry-run and --rollback work on SQLite files", result.Error);
        Assert.Equal(0, _database.Count("SELECT count(*) FROM pg_tables WHERE tablename = 'posts'"));
    }
}
