using System.Text.Json;

namespace PostService.Hydration;

/// <summary>Where a run is in its life; stored and shown in snake_case (<c>completed</c>).</summary>
public enum HydrationRunStatus
{
    Queued,
    Running,
    Completed,
    Cancelled,

    /// <summary>The process stopped mid-run (found open at the next start).</summary>
    Interrupted,
}

/// <summary>What started a run; stored and shown in snake_case (<c>manual</c>).</summary>
public enum RunTrigger
{
    Startup,

    /// <summary>New URIs were queued by ingestion.</summary>
    Ingest,
    Manual,
    Cli,

    /// <summary>The worker woke on its own: a failed post's retry time or an ok post's scheduled refresh had come.</summary>
    Schedule,
}

/// <summary>
/// An enum's text as the database stores it and the JSON converter writes it (snake_case), both ways. Dapper writes enums
/// as numbers and ignores type handlers for them, so repositories convert explicitly.
/// </summary>
public static class EnumText<T> where T : struct, Enum
{
    private static readonly T[] Values = Enum.GetValues<T>();
    private static readonly string[] Texts = Array.ConvertAll(Values, value => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString()));

    public static string Of(T value) => Texts[Array.IndexOf(Values, value)];

    public static T Parse(string text) =>
        Array.IndexOf(Texts, text) is var index and >= 0 ? Values[index] : throw new FormatException($"'{text}' is not a {typeof(T).Name}.");
}
