using System.CommandLine;

namespace PostService.Cli;

/// <summary>
/// <c>healthcheck [--url URL]</c>: asks a running service's <c>/readyz</c>; exit code 0 when it answers 200, 1 otherwise.
/// The container's HEALTHCHECK runs it, so the image needs no curl.
/// </summary>
internal static class HealthcheckCommand
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public static Command Create(CliEnvironment environment)
    {
        var url = new Option<string?>("--url")
        {
            Description = "The service's base URL. Default: the first of ASPNETCORE_URLS on this machine, else http://localhost:5080.",
        };
        var command = new Command("healthcheck", "Check that a running service is ready (GET /readyz); exit code 0 if it is, 1 if not.") { url };
        command.SetAction(PostServiceCli.Verb(environment, (parse, cancellationToken) =>
            RunAsync(parse.GetValue(url) is { } given
                ? Uri.TryCreate(given, UriKind.Absolute, out var baseUrl) ? baseUrl : throw new CliUsageException($"--url '{given}' is not an absolute URL.")
                : DefaultUrl(Environment.GetEnvironmentVariable("ASPNETCORE_URLS")), environment, cancellationToken)));
        return command;
    }

    /// <summary>The first listening URL, with a wildcard host (<c>+</c>, <c>*</c>, <c>0.0.0.0</c>, <c>[::]</c>) taken as this machine.</summary>
    internal static Uri DefaultUrl(string? listeningUrls)
    {
        var first = listeningUrls?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        if (first is null)
        {
            return new Uri("http://localhost:5080");
        }
        var local = first.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal)
            .Replace("://0.0.0.0", "://localhost", StringComparison.Ordinal).Replace("://[::]", "://localhost", StringComparison.Ordinal);
        return new Uri(local);
    }

    private static async Task<int> RunAsync(Uri baseUrl, CliEnvironment environment, CancellationToken cancellationToken)
    {
        using var client = new HttpClient { BaseAddress = baseUrl, Timeout = Timeout };
        try
        {
            using var response = await client.GetAsync("/readyz", cancellationToken);
            await environment.Output.WriteLineAsync($"{baseUrl}readyz: {(int)response.StatusCode} {response.ReasonPhrase}");
            return response.IsSuccessStatusCode ? ExitCodes.Ok : ExitCodes.Failed;
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            await environment.Error.WriteLineAsync($"{baseUrl}readyz: no answer ({exception.Message})");
            return ExitCodes.Failed;
        }
    }
}
