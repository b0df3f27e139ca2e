using System.ComponentModel.DataAnnotations;

namespace PostService.Security;

/// <summary>
/// Requests each client may make per window, reads and writes counted apart. A client is its API key when it sends a
/// valid one, else its IP address. Bound from <c>PostService:RateLimit</c>.
/// </summary>
public sealed class RateLimitOptions
{
    public const string Section = "PostService:RateLimit";

    /// <summary>GET and HEAD requests per client per window: 20 a second on average, for a dashboard or a notebook.</summary>
    [Range(1, 10_000_000)]
    public int ReadsPerWindow { get; set; } = 1_200;

    /// <summary>Writes and admin actions per client per window: far above what a feed bot sends in batches.</summary>
    [Range(1, 10_000_000)]
    public int WritesPerWindow { get; set; } = 6_000;

    [Range(1, 3_600)]
    public int WindowSeconds { get; set; } = 60;
}
