using System.Net;
using System.Net.Sockets;
using Dapper;
using PostService.Cli;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Cli;

/// <summary>
/// hydrate on a legacy file (migrated first): after migration its pending posts are c, e and f (DID URIs) and a
/// handle-based URI, which fails without a call.
/// </summary>
public sealed class HydrateCommandTests : IAsyncLifetime
{
    private static readonly string C = LegacyDatabaseBuilder.Uri("c", "did:plc:author3");
    private static readonly string E = LegacyDatabaseBuilder.Uri("e", "did:plc:author5");
    private static readonly string F = LegacyDatabaseBuilder.Uri("f", "did:plc:author6");

    private readonly string _directory = TempDirectory.Create();
    private FakeAppView _appView = null!;
    private string _path = null!;

    public async Task InitializeAsync()
    {
        _appView = await FakeAppView.StartAsync();
        _path = LegacyDatabaseBuilder.OldLayout().WithSampleData().Write(Path.Combine(_directory, "compliance.db"));
    }

    public async Task DisposeAsync()
    {
        await _appView.DisposeAsync();
        TempDirectory.Delete(_directory);
    }

    private Task<CliResult> HydrateAsync(params string[] options) =>
        CliRunner.RunAsync(["hydrate", "--db", _path, .. options], HydratingService.Settings(_appView));

    private string Status(string uri)
    {
        using var connection = DatabaseDump.Open(_path);
        return connection.ExecuteScalar<string>("SELECT hydration_status FROM posts WHERE post_uri = @uri", new { uri })!;
    }

    [Fact]
    public async Task ARunMigratesTheFileHydratesItsPendingPostsAndSucceedsDespiteNotFound()
    {
        _appView.AddPost(C);
        _appView.AddPost(E);

        var result = await HydrateAsync();

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        Assert.Contains($"Migrated {_path} first (8 steps); backup: {_path}.bak-", result.Output);
        Assert.Contains($"4 posts to hydrate in {_path}.", result.Output);
        Assert.Matches(@"run 1\W+completed", result.Output);
        Assert.Matches(@"attempted\W+4\W", result.Output);
        Assert.Matches(@"hydrated\W+2\W", result.Output);
        Assert.Matches(@"not found\W+1\W", result.Output);
        Assert.Matches(@"errors\W+1\W", result.Output);
        Assert.Equal(["ok", "ok", "not_found"], new[] { C, E, F }.Select(Status));
        using var connection = DatabaseDump.Open(_path);
        Assert.Equal(("cli", "completed"), connection.QuerySingle<(string, string)>("SELECT trigger, status FROM hydration_runs"));
    }

    [Fact]
    public async Task LimitCapsThePostsAttempted()
    {
        _appView.AddPost(C);

        var result = await HydrateAsync("--limit", "1");

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        Assert.Contains("1 posts to hydrate", result.Output);
        Assert.Matches(@"attempted\W+1\W", result.Output);
        Assert.Equal(["ok", "pending", "pending"], new[] { C, E, F }.Select(Status));
    }

    [Fact]
    public async Task ForceFetchRetriesNotFoundAndFailedPosts()
    {
        await HydrateAsync();
        _appView.AddPost(F);

        var unforced = await HydrateAsync();
        var statusUnforced = Status(F);
        var forced = await HydrateAsync("--forcefetch-failedhydration");

        Assert.Contains("0 posts to hydrate", unforced.Output);
        Assert.Equal("not_found", statusUnforced);
        Assert.True(forced.ExitCode == ExitCodes.Ok, forced.ToString());
        Assert.Contains("4 posts to hydrate", forced.Output);
        Assert.Contains("failed ones included", forced.Output);
        Assert.Equal("ok", Status(F));
    }

    [Fact]
    public async Task AnAppViewThatNeverAnswersFailsTheCommand()
    {
        var settings = HydratingService.Settings(_appView, new Dictionary<string, string?> { ["PostService:AppView:BaseUrl"] = $"http://127.0.0.1:{ClosedPort()}" });

        var result = await CliRunner.RunAsync(["hydrate", "--db", _path], settings);

        Assert.Equal(ExitCodes.AppViewUnreachable, result.ExitCode);
        Assert.Contains("the AppView did not answer any call", result.Error);
        Assert.Matches(@"errors\W+4\W", result.Output);
        Assert.Equal(["error", "error", "error"], new[] { C, E, F }.Select(Status));
    }

    [Fact]
    public async Task CancellingStopsTheCallsInFlightAndLeavesTheirPostsAsTheyWere()
    {
        _appView.Latency = TimeSpan.FromSeconds(30);
        using var cancel = new CancellationTokenSource();

        var running = CliRunner.RunAsync(["hydrate", "--db", _path], HydratingService.Settings(_appView), cancellationToken: cancel.Token);
        await Eventually.TrueAsync(() => _appView.Calls.Count > 0, "a call is in flight");
        await cancel.CancelAsync();
        var result = await running;

        Assert.True(result.ExitCode == ExitCodes.Cancelled, result.ToString());
        Assert.Matches(@"run 1\W+cancelled", result.Output);
        Assert.Equal(["pending", "pending", "pending"], new[] { C, E, F }.Select(Status));
        using var connection = DatabaseDump.Open(_path);
        Assert.Equal("cancelled", connection.ExecuteScalar<string>("SELECT status FROM hydration_runs"));
    }

    [Fact]
    public async Task OnlyATerminalGetsAProgressBar()
    {
        var piped = await HydrateAsync();
        await using var fresh = new TempPath();
        var terminal = await CliRunner.RunAsync(["hydrate", "--db", LegacyDatabaseBuilder.OldLayout().WithSampleData().Write(fresh.File)],
            HydratingService.Settings(_appView), interactive: true);

        Assert.DoesNotContain("%", piped.Output);
        Assert.Contains("100%", terminal.Output);
        Assert.Contains("4/4 done", terminal.Output);
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class TempPath : IAsyncDisposable
    {
        private readonly string _directory = TempDirectory.Create();

        public string File => Path.Combine(_directory, "compliance.db");

        public ValueTask DisposeAsync()
        {
            TempDirectory.Delete(_directory);
            return ValueTask.CompletedTask;
        }
    }
}
