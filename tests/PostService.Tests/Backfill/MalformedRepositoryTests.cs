using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using PostService.Atproto;
using PostService.Backfill;
using PostService.Cli;
using PostService.Storage.Migrations;
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

    /// <summary>
    /// Mutated copies of a real repository (bytes flipped, cut short, garbage inserted, a slice repeated), each backfilled
    /// over the last good one: every run ends in a job that is complete (with exactly its records stored) or failed with a
    /// reason (with the last good records untouched); none throws or writes part of a repository.
    /// </summary>
    [Fact]
    public async Task MutatedRepositoriesNeverCrashTheBackfillOrWritePartOfOne()
    {
        await using var services = CoreServices.For(_path, new Dictionary<string, string?> { ["PostService:Identity:PlcUrl"] = _server.BaseUrl });
        await services.GetRequiredService<Migrator>().MigrateAsync(CancellationToken.None);
        var jobs = services.GetRequiredService<BackfillRepository>();
        var backfiller = services.GetRequiredService<RepoBackfiller>();
        async Task<(long Records, string Status, string? Error)> BackfillAsync(byte[] car)
        {
            _server.Answer("/xrpc/com.atproto.sync.getRepo", 200, car);
            await jobs.EnqueueAsync(new BackfillRequest([_did], null, null, null, Refresh: true), DateTimeOffset.UtcNow, CancellationToken.None);
            await backfiller.RunAsync([_did], new BackfillProgress(), CancellationToken.None);
            return Stored();
        }

        var good = await BackfillAsync(_car);
        Assert.Equal("complete", good.Status);
        var random = new Random(20_260_101);
        var outcomes = new Dictionary<string, int>();
        for (var i = 0; i < 60; i++)
        {
            var mutated = Mutate(_car, random);
            var (records, status, error) = await BackfillAsync(mutated);
            outcomes[status] = outcomes.GetValueOrDefault(status) + 1;
            if (status == "failed")
            {
                Assert.False(string.IsNullOrWhiteSpace(error));
                Assert.Equal(good.Records, records);
            }
            else
            {
                Assert.Equal("complete", status);
                await using var connection = new SqliteConnection($"Data Source={_path}");
                Assert.Equal(connection.ExecuteScalar<long>("SELECT records FROM repo_backfill_jobs"), records);
                good = (records, status, error);
            }
        }
        Assert.True(outcomes.GetValueOrDefault("failed") >= 50, string.Join(", ", outcomes));
    }

    private static byte[] Mutate(byte[] car, Random random)
    {
        var at = random.Next(car.Length);
        return random.Next(4) switch
        {
            0 => car.Select((b, i) => i == at ? (byte)(b ^ (1 << random.Next(8))) : b).ToArray(),
            1 => car[..at],
            2 => [.. car[..at], .. Enumerable.Range(0, random.Next(1, 64)).Select(_ => (byte)random.Next(256)), .. car[at..]],
            _ => [.. car[..at], .. car[at..Math.Min(car.Length, at + random.Next(1, 200))], .. car[at..]],
        };
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
