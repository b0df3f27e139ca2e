using Spectre.Console;

namespace PostService.Cli;

/// <summary>What the verbs need from outside: how to run the web service, where to write, and configuration overrides.</summary>
/// <param name="Serve">Runs the web service with the host arguments it is given; Program.cs supplies it.</param>
public sealed record CliEnvironment(Func<string[], Task<int>> Serve)
{
    /// <summary>Results: tables, JSON, the run's stats.</summary>
    public TextWriter Output { get; init; } = Console.Out;

    /// <summary>Errors, and the service's warnings.</summary>
    public TextWriter Error { get; init; } = Console.Error;

    /// <summary>A person at a terminal: a live progress bar. Otherwise (CI, pipes) plain lines, no colours.</summary>
    public bool Interactive { get; init; } = !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>Configuration over appsettings.json and environment variables, by key (e.g. <c>PostService:AppView:BaseUrl</c>).</summary>
    public IReadOnlyDictionary<string, string?> Settings { get; init; } = new Dictionary<string, string?>();

    public IAnsiConsole CreateConsole() => AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(Output),
        Ansi = Interactive ? AnsiSupport.Detect : AnsiSupport.No,
        ColorSystem = Interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
        Interactive = Interactive ? InteractionSupport.Yes : InteractionSupport.No,
    });
}
