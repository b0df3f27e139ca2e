using System.Text.Json;
using PostService.Cli;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Cli;

/// <summary>report on the newer Python layout: after migration ok 2 (one legacy), pending 1, not_found 1, error 1.</summary>
public sealed class ReportCommandTests : IDisposable
{
    private readonly string _directory = TempDirectory.Create();
    private readonly string _path;

    public ReportCommandTests() =>
        _path = LegacyDatabaseBuilder.NewerLayout().WithSampleData().Write(Path.Combine(_directory, "compliance.db"));

    public void Dispose() => TempDirectory.Delete(_directory);

    [Fact]
    public async Task TheReportShowsTotalsByStatusCoverageAndTheFailureTrend()
    {
        await CliRunner.RunAsync(["migrate", "--db", _path]);

        var result = await CliRunner.RunAsync(["report", "--db", _path]);

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        Assert.Matches(@"ok\W+2\W", result.Output);
        Assert.Matches(@"pending\W+1\W", result.Output);
        Assert.Matches(@"not_found\W+1\W", result.Output);
        Assert.Matches(@"total\W+5\W", result.Output);
        // The legacy not_found post was never asked about: its reason is unexplained.
        Assert.Matches(@"unexplained\W+1\W", result.Output);
        Assert.Contains("Coverage: 40.00% (2 posts with an author, of those with a valid URI)", result.Output);
        Assert.Contains("Failures per day (by last attempt), last 30 days:", result.Output);
    }

    [Fact]
    public async Task JsonIsTheApisCoverageDocument()
    {
        await CliRunner.RunAsync(["migrate", "--db", _path]);

        var result = await CliRunner.RunAsync(["report", "--db", _path, "--json"]);

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        var report = JsonDocument.Parse(result.Output).RootElement;
        Assert.Equal(5, report.GetProperty("total_posts").GetInt64());
        Assert.Equal(1, report.GetProperty("by_status").GetProperty("error").GetInt64());
        Assert.Equal(40, report.GetProperty("coverage_pct").GetDouble());
        Assert.Equal(JsonValueKind.Array, report.GetProperty("failure_trend").ValueKind);
        Assert.Equal(1, report.GetProperty("not_found_by_reason").GetProperty("unexplained").GetInt64());
    }

    [Fact]
    public async Task AFileThatNeedsMigratingIsRefused()
    {
        var result = await CliRunner.RunAsync(["report", "--db", _path, "--json"]);

        Assert.Equal(ExitCodes.NotMigrated, result.ExitCode);
        Assert.Equal("", result.Output);
        Assert.Contains($"needs migrating first: postservice migrate --db {_path}", result.Error);
    }
}
