using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Security;

/// <summary>The built executable's own console output, as an operator's log collector reads it.</summary>
public sealed partial class ConsoleLogTests
{
    [Theory]
    [InlineData("--PostService:Api:JsonLogs=false", "CorrelationId:console-check-7")]
    [InlineData("--PostService:Api:JsonLogs=true", "\"CorrelationId\":\"console-check-7\"")]
    [InlineData("--Logging:Console:FormatterName=json", "\"CorrelationId\":\"console-check-7\"")]
    public async Task TheConsoleLogShowsTheCorrelationIdOfEveryLineARequestWrites(string logSetting, string expected)
    {
        var directory = TempDirectory.Create();
        var lines = new ConcurrentQueue<string>();
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = directory,
        };
        foreach (var arg in new[]
                 {
                     Path.Combine(AppContext.BaseDirectory, "postservice.dll"), "serve", "--urls", "http://127.0.0.1:0",
                     $"--PostService:Database:Path={Path.Combine(directory, "compliance.db")}", "--PostService:Hydration:Enabled=false",
                     logSetting,
                 })
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, line) => lines.Enqueue(line.Data ?? "");
        process.BeginOutputReadLine();
        try
        {
            string? listening = null;
            await Eventually.TrueAsync(() => (listening = lines.Select(line => ListeningOn().Match(line)).FirstOrDefault(match => match.Success)?.Groups[1].Value) is not null,
                "the service says where it listens", TimeSpan.FromSeconds(60));
            using var client = new HttpClient { BaseAddress = new Uri(listening!) };
            using var request = new HttpRequestMessage(HttpMethod.Post, "/feed-retrievals")
            {
                Content = JsonContent.Create(RetrievalBuilder.Batch(new RetrievalBuilder().WithPosts(1))),
            };
            request.Headers.Add("X-Correlation-Id", "console-check-7");

            (await client.SendAsync(request)).EnsureSuccessStatusCode();

            await Eventually.TrueAsync(() => string.Join("\n", lines).Contains(expected), $"the log shows {expected}:\n{string.Join("\n", lines)}");
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            TempDirectory.Delete(directory);
        }
    }

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningOn();
}
