using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using PostService.Cli;
using PostService.Storage;
using PostService.Storage.Migrations;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Cli;

public sealed class MigrateCommandTests : IDisposable
{
    private readonly string _directory = TempDirectory.Create();
    private readonly string _path;

    public MigrateCommandTests() =>
        _path = LegacyDatabaseBuilder.OldLayout().WithTablesPostServiceDoesNotOwn().WithSampleData().Write(Path.Combine(_directory, "compliance.db"));

    public void Dispose() => TempDirectory.Delete(_directory);

    [Fact]
    public async Task MigratePrintsTheStepsTheBackupAndEveryTablesRowsBeforeAndAfter()
    {
        var result = await CliRunner.RunAsync(["migrate", "--db", _path]);

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        Assert.Contains("5. feed_request_posts rebuilt without author columns, one row per (request, URI) (rebuilds a table of this file)", result.Output);
        var backup = Assert.Single(Directory.GetFiles(_directory, "compliance.db.bak-*"));
        Assert.Contains($"Backup: {backup}{Environment.NewLine}", result.Output);
        Assert.Matches(@"feed_request_posts\W+15\W+12\W", result.Output);
        Assert.Matches(@"\bposts\W+-\W+8\W", result.Output);
        Assert.Matches(@"engagements\W+3\W+3\W", result.Output);
        Assert.Matches(@"schema_version\W+-\W+8\W", result.Output);
        Assert.DoesNotContain("\u001b[", result.Output);
    }

    [Fact]
    public async Task ADryRunReportsTheSameCountsAndLeavesTheFileAsItWas()
    {
        var bytes = await File.ReadAllBytesAsync(_path);

        var result = await CliRunner.RunAsync(["migrate", "--db", _path, "--dry-run"]);

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        Assert.Contains("Dry run on a copy of", result.Output);
        Assert.Contains($"Backup: would be written to {_path}.bak-<UTC timestamp>", result.Output);
        Assert.Matches(@"feed_request_posts\W+15\W+12\W", result.Output);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(_path));
        Assert.Equal([_path], Directory.GetFiles(_directory));
    }

    [Fact]
    public async Task MigratingAgainSaysThereIsNothingToDo()
    {
        await CliRunner.RunAsync(["migrate", "--db", _path]);

        var again = await CliRunner.RunAsync(["migrate", "--db", _path]);

        Assert.True(again.ExitCode == ExitCodes.Ok, again.ToString());
        Assert.Contains("The schema is current; nothing to migrate.", again.Output);
        Assert.Contains("Backup: none needed", again.Output);
        Assert.Matches(@"feed_request_posts\W+12\W+12\W", again.Output);
    }

    [Fact]
    public async Task RollbackReaddsTheAuthorColumns()
    {
        await CliRunner.RunAsync(["migrate", "--db", _path]);

        var result = await CliRunner.RunAsync(["migrate", "--db", _path, "--rollback"]);

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        Assert.Contains("Re-added post_author_did and post_author_handle to feed_request_posts: 8 of 12 rows have an author.", result.Output);
        using var connection = DatabaseDump.Open(_path);
        Assert.Equal("alice2.test", connection.ExecuteScalar<string>(
            "SELECT post_author_handle FROM feed_request_posts WHERE request_id = 1 AND post_uri = @uri", new { uri = LegacyDatabaseBuilder.Uri("a") }));
    }

    [Fact]
    public async Task RollbackOfAFileThatIsNotMigratedIsRefused()
    {
        var result = await CliRunner.RunAsync(["migrate", "--db", _path, "--rollback"]);

        Assert.Equal(ExitCodes.NotMigrated, result.ExitCode);
        Assert.Contains("is not fully migrated", result.Error);
        Assert.Equal(["feed_request_posts", "feed_requests"], DatabaseDump.Tables(_path, "engagements", "subscriber_snapshots", "subscriber_follow_counts").Keys);
    }

    [Fact]
    public async Task AFailedCheckIsReportedAndFailsTheCommand()
    {
        await using (var services = CoreServices.For(_path))
        {
            var firstSteps = services.GetServices<IMigration>().Where(step => step.Version < 5);
            await new Migrator(services.GetRequiredService<IDbConnectionFactory>(), firstSteps, services.GetRequiredService<SqliteBackup>(),
                NullLogger<Migrator>.Instance).MigrateAsync(CancellationToken.None);
        }
        using (var connection = DatabaseDump.Open(_path))
        {
            connection.Execute("DELETE FROM posts WHERE post_uri = @uri", new { uri = LegacyDatabaseBuilder.Uri("a") });
        }

        var result = await CliRunner.RunAsync(["migrate", "--db", _path]);

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Contains("error: Migration 5 stopped and changed nothing: 1 distinct URIs in feed_request_posts_new have no row in posts.", result.Error);
    }

    [Theory]
    [InlineData("migrate")]
    [InlineData("migrate", "--db", "missing.db")]
    public async Task WithoutAnExistingFileNothingRuns(params string[] args)
    {
        var result = await CliRunner.RunAsync(args);

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Matches("Option '--db' is required|File does not exist: 'missing.db'", result.Error);
        Assert.False(File.Exists("missing.db"));
    }
}
