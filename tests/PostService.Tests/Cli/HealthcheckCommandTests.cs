using PostService.Cli;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Cli;

/// <summary>The container's health check: the executable asks a running service's /readyz.</summary>
public sealed class HealthcheckCommandTests
{
    [Fact]
    public async Task AReadyServiceIsHealthy()
    {
        using var service = new PostServiceFactory();
        var url = service.StartOnLoopback();

        var result = await CliRunner.RunAsync(["healthcheck", "--url", url]);

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        Assert.Contains("readyz: 200", result.Output);
    }

    [Fact]
    public async Task NoServiceIsUnhealthy()
    {
        using var service = new PostServiceFactory();
        var url = service.StartOnLoopback();
        service.Dispose();

        var result = await CliRunner.RunAsync(["healthcheck", "--url", url]);

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Contains("no answer", result.Error);
    }

    [Theory]
    [InlineData(null, "http://localhost:5080/")]
    [InlineData("http://+:8080", "http://localhost:8080/")]
    [InlineData("http://*:9000;https://*:9001", "http://localhost:9000/")]
    [InlineData("http://0.0.0.0:7000", "http://localhost:7000/")]
    [InlineData("http://127.0.0.1:5081", "http://127.0.0.1:5081/")]
    public void TheDefaultUrlIsTheFirstListeningUrlOnThisMachine(string? listening, string expected) =>
        Assert.Equal(expected, HealthcheckCommand.DefaultUrl(listening).ToString());
}
