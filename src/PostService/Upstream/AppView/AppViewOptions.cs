using System.ComponentModel.DataAnnotations;

namespace PostService.Upstream.AppView;

/// <summary>Where and how patiently the service talks to the Bluesky AppView.</summary>
public sealed class AppViewOptions
{
    public const string Section = "PostService:AppView";

    [Required, Url]
    public string BaseUrl { get; set; } = "https://public.api.bsky.app";

    /// <summary>Time limit for one HTTP attempt, not for the whole call including retries.</summary>
    [Range(1, 300)]
    public int AttemptTimeoutSeconds { get; set; } = 10;

    [Range(0, 10)]
    public int MaxRetries { get; set; } = 3;

    /// <summary>First retry delay; later ones grow exponentially, with jitter.</summary>
    [Range(1, 60000)]
    public int RetryBaseDelayMs { get; set; } = 500;

    /// <summary>The pause after a 429 that says neither <c>Retry-After</c> nor <c>RateLimit-Reset</c>.</summary>
    [Range(1, 86_400)]
    public int DefaultRetryAfterSeconds { get; set; } = 60;

    /// <summary>Longer pauses asked for by a 429 are cut to this: a wrong header must not stop hydration for days.</summary>
    [Range(1, 86_400)]
    public int MaxRetryAfterSeconds { get; set; } = 3_600;
}
