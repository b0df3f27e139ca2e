using System.Text.Json;
using PostService.Cli;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Cli;

public sealed class PostServiceCliTests : IDisposable
{
    private readonly string _directory = TempDirectory.Create();

    public void Dispose() => TempDirectory.Delete(_directory);

    [Theory]
    [InlineData(new string[0], new string[0])]
    [InlineData(new[] { "--urls", "http://127.0.0.1:5099" }, new[] { "--urls", "http://127.0.0.1:5099" })]
    [InlineData(new[] { "serve" }, new string[0])]
    [InlineData(new[] { "serve", "--PostService:Database:Path=x.db" }, new[] { "--PostService:Database:Path=x.db" })]
    public async Task WithoutAVerbOrWithServeTheWebServiceRunsWithTheRemainingArguments(string[] args, string[] hostArgs)
    {
        string[]? served = null;

        var result = await CliRunner.RunAsync(args, serve: given =>
        {
            served = given;
            return Task.FromResult(42);
        });

        Assert.Equal(42, result.ExitCode);
        Assert.Equal(hostArgs, served);
    }

    [Fact]
    public async Task AnUnknownVerbIsAnErrorNotAWebService()
    {
        var result = await CliRunner.RunAsync(["mirgate", "--db", "compliance.db"]);

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Contains("unknown command 'mirgate'", result.Error);
    }

    [Fact]
    public async Task HelpListsTheVerbs()
    {
        var result = await CliRunner.RunAsync(["--help"]);

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.All(["serve", "migrate", "hydrate", "report"], verb => Assert.Contains($"  {verb} ", result.Output));
    }

    /// <summary>The built program, its output on pipes: exit codes, and stdout that is only the JSON.</summary>
    [Fact]
    public async Task TheExecutableMigratesAndReportsALegacyFile()
    {
        var path = LegacyDatabaseBuilder.OldLayout().WithSampleData().Write(Path.Combine(_directory, "compliance.db"));

        var refused = await CliRunner.RunProcessAsync("report", "--db", path);
        var migrated = await CliRunner.RunProcessAsync("migrate", "--db", path);
        var report = await CliRunner.RunProcessAsync("report", "--db", path, "--json");

        Assert.True(refused.ExitCode == ExitCodes.NotMigrated, refused.ToString());
        Assert.True(migrated.ExitCode == ExitCodes.Ok, migrated.ToString());
        Assert.Contains("Backup: " + path + ".bak-", migrated.Output);
        Assert.True(report.ExitCode == ExitCodes.Ok, report.ToString());
        Assert.Equal(8, JsonDocument.Parse(report.Output).RootElement.GetProperty("total_posts").GetInt64());
    }
}
