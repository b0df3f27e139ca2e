using System.Diagnostics;
using PostService.Cli;

namespace PostService.Tests.Infrastructure;

public sealed record CliResult(int ExitCode, string Output, string Error)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
}

/// <summary>Runs the executable's verbs: in process with captured output, or as the built program.</summary>
public static class CliRunner
{
    /// <summary>In process, as on a pipe (no progress bar); <paramref name="settings"/> are configuration keys.</summary>
    public static async Task<CliResult> RunAsync(
        string[] args, IReadOnlyDictionary<string, string?>? settings = null, bool interactive = false,
        Func<string[], Task<int>>? serve = null, CancellationToken cancellationToken = default)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var environment = new CliEnvironment(serve ?? (_ => throw new InvalidOperationException("the web service was not expected to run")))
        {
            Output = output,
            Error = error,
            Interactive = interactive,
            Settings = settings ?? new Dictionary<string, string?>(),
        };
        var exitCode = await PostServiceCli.RunAsync(args, environment, cancellationToken);
        return new CliResult(exitCode, output.ToString(), error.ToString());
    }

    /// <summary>The built executable (dotnet postservice.dll), with its output redirected as in CI.</summary>
    public static async Task<CliResult> RunProcessAsync(params string[] args)
    {
        using var process = Process.Start(BuiltExecutable(args))!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return new CliResult(process.ExitCode, await output, await error);
    }

    /// <summary>How to start the built executable with <paramref name="args"/>, its output redirected.</summary>
    public static ProcessStartInfo BuiltExecutable(params IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "postservice.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        return start;
    }
}
