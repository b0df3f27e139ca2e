using Dapper;
using Microsoft.Data.Sqlite;
using PostService.Cli;
using PostService.Tests.Backfill;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Cli;

/// <summary><c>backfill-repos</c> against the real PDS: resumable per DID, a failing DID reported without stopping the others.</summary>
public sealed class BackfillReposCommandTests : IDisposable
{
    private readonly string _directory = TempDirectory.Create();
    private readonly string _path;

    public BackfillReposCommandTests()
    {
        _path = Path.Combine(_directory, "compliance.db");
        File.WriteAllBytes(_path, []);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        TempDirectory.Delete(_directory);
    }

    private static Dictionary<string, string?> Settings => new() { ["PostService:Identity:PlcUrl"] = RealAppViewNetwork.Current!.PlcUrl };

    private long Count(string sql, object? parameters = null)
    {
        using var connection = new SqliteConnection($"Data Source={_path}");
        return connection.ExecuteScalar<long>(sql, parameters);
    }

    [RealAppViewFact]
    public async Task ItBackfillsTheGivenTypesOnceSkipsThemNextTimeUnlessRefreshedAndReportsADidThatFails()
    {
        var (participant, _, _, _) = await RepoBackfillTests.ParticipantAsync("bc");
        var unknown = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa";
        var didsFile = Path.Combine(_directory, "dids.txt");
        await File.WriteAllLinesAsync(didsFile, ["# participants", participant.Did, unknown]);

        var first = await CliRunner.RunAsync(
            ["backfill-repos", "--db", _path, "--dids-file", didsFile, "--since", "2025-01-01T00:00:00Z", "--collections", "like,repost,follow"], Settings);

        Assert.Equal(ExitCodes.Failed, first.ExitCode);
        Assert.Contains("2 of 2 DIDs to backfill", first.Output);
        Assert.Matches(@"2/2 DIDs, 1 failed, 3 records", first.Output);
        Assert.Equal(3, Count("SELECT count(*) FROM repo_records WHERE did = @did", new { did = participant.Did }));
        Assert.Equal(0, Count("SELECT count(*) FROM repo_records WHERE record_type NOT IN ('like', 'repost', 'follow')"));
        Assert.Equal(1, Count("SELECT count(*) FROM repo_backfill_jobs WHERE did = @unknown AND status = 'failed' AND error LIKE '%has no DID document%'", new { unknown }));

        // Finished DIDs are not downloaded again; the failed one is retried (and fails again).
        var second = await CliRunner.RunAsync(["backfill-repos", "--db", _path, "--dids", $"{participant.Did},{unknown}"], Settings);
        Assert.Contains("1 of 2 DIDs to backfill", second.Output);
        Assert.Equal(3, Count("SELECT count(*) FROM repo_records WHERE did = @did", new { did = participant.Did }));

        var refreshed = await CliRunner.RunAsync(["backfill-repos", "--db", _path, "--dids", participant.Did, "--refresh"], Settings);
        Assert.True(refreshed.ExitCode == ExitCodes.Ok, refreshed.ToString());
        Assert.Contains("1 of 1 DIDs to backfill", refreshed.Output);
        Assert.Equal(7, Count("SELECT count(*) FROM repo_records WHERE did = @did", new { did = participant.Did }));
        Assert.Equal(1, Count("SELECT count(*) FROM repo_records WHERE did = @did AND created_at < '2025-01-01'", new { did = participant.Did }));
    }

    [Fact]
    public async Task WithoutDidsItSaysWhatIsMissing()
    {
        var result = await CliRunner.RunAsync(["backfill-repos", "--db", _path, "--collections", "post"]);
        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Contains("dids must name 1", result.Error);
    }
}
