using System.ComponentModel.DataAnnotations;

namespace PostService.Upstream;

/// <summary>Where and how patiently the service talks to one upstream; each upstream binds its own section.</summary>
public abstract class UpstreamOptions
{
    /// <summary>Each upstream sets its public address as the default.</summary>
    [Required, Url]
    public string BaseUrl { get; set; } = "";

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

    /// <summary>Longer pauses asked for by a 429 are cut to this: a wrong header must not stop calls for days.</summary>
    [Range(1, 86_400)]
    public int MaxRetryAfterSeconds { get; set; } = 3_600;

    public TimeSpan AttemptTimeout => TimeSpan.FromSeconds(AttemptTimeoutSeconds);

    public RetryAfterRule RetryAfter => new(TimeSpan.FromSeconds(DefaultRetryAfterSeconds), TimeSpan.FromSeconds(MaxRetryAfterSeconds));
}
