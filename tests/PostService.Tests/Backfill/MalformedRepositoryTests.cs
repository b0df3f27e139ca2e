using Dapper;
using Microsoft.Data.Sqlite;
using PostService.Atproto;
using PostService.Cli;
using PostService.Tests.Atproto;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Backfill;

/// <summary>
/// Repositories the real PDS would never send (served by a loopback server from a real capture): a malformed one fails
/// its DID's job with the reason, and leaves what an earlier backfill stored untouched; an oversized one is cut off.
/// </summary>
public sealed class MalformedRepositoryTests : IAsyncLifetime
{
    private readonly string _directory = TempDirectory.Create();
    private readonly byte[] _car = TestFiles.Read("alice-repo.car");
    private ScriptedServer _server = null!;
    private string _path = "";
    private string _did = "";

    public async Task InitializeAsync()
    {
        _server = await ScriptedServer.StartAsync();
        _path = Path.Combine(_directory, "compliance.db");
        await File.WriteAllBytesAsync(_path, []);
        _did = RepoReader.Open(_car).Commit.Did;
        _server.Answer("/" + _did, 200,
            $$"""{"id":"{{_did}}","service":[{"id":"#atproto_pds","type":"AtprotoPersonalDataServer","serviceEndpoint":"{{_server.BaseUrl}}"}]}""");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        SqliteConnection.ClearAllPools();
        TempDirectory.Delete(_directory);
    }

    private Task<CliResult> BackfillAsync(params string[] extra) => CliRunner.RunAsync(
        ["backfill-repos", "--db", _path, "--dids", _did, .. extra],
        new Dictionary<string, string?> { ["PostService:Identity:PlcUrl"] = _server.BaseUrl, ["PostService:Backfill:MaxRepoBytes"] = "1048576" });

    private (long Records, string Status, string? Error) Stored()
    {
        using var connection = new SqliteConnection($"Data Source={_path}");
        var records = connection.ExecuteScalar<long>("SELECT count(*) FROM repo_records");
        var (status, error) = connection.QuerySingle<(string, string?)>("SELECT status, error FROM repo_backfill_jobs WHERE did = @_did", new { _did });
        return (records, status, error);
    }

    [Fact]
    public async Task AMalformedRepositoryFailsItsJobAndLeavesTheRecordsOfTheLastGoodOne()
    {
        _server.Answer("/xrpc/com.atproto.sync.getRepo", 200, _car);
        var good = await BackfillAsync();
        Assert.True(good.ExitCode == ExitCodes.Ok, good.ToString());
        var (records, status, _) = Stored();
        Assert.Equal("complete", status);
        Assert.True(records > 0);

        var corrupted = (byte[])_car.Clone();
        corrupted[corrupted.Length / 2] ^= 0xFF;
        _server.Answer("/xrpc/com.atproto.sync.getRepo", 200, corrupted);
        var bad = await BackfillAsync("--refresh");

        Assert.Equal(ExitCodes.Failed, bad.ExitCode);
        var after = Stored();
        Assert.Equal("failed", after.Status);
        Assert.StartsWith("malformed repository:", after.Error);
        Assert.Equal(records, after.Records);
    }

    [Fact]
    public async Task ARepositoryLargerThanTheCapIsNotRead()
    {
        _server.Answer("/xrpc/com.atproto.sync.getRepo", 200, new byte[1_048_577]);
        var result = await BackfillAsync();
        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Contains("larger than 1,048,576 bytes", Stored().Error);
    }

    [Fact]
    public async Task APdsThatRefusesTheRepositoryFailsTheJobWithItsAnswer()
    {
        _server.Answer("/xrpc/com.atproto.sync.getRepo", 400, """{"error":"RepoDeactivated","message":"Repo has been deactivated"}""");
        await BackfillAsync();
        Assert.Contains("HTTP 400", Stored().Error);
        Assert.Contains("RepoDeactivated", Stored().Error);
    }
}
