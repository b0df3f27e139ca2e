using System.Globalization;
using System.Net.Http.Headers;

namespace PostService.Upstream;

/// <summary>The <c>RateLimit-*</c> headers of an AppView response.</summary>
/// <param name="Reset">When the current window ends, as an absolute time.</param>
/// <param name="Policy">Raw policy, e.g. <c>3000;w=300</c>.</param>
public sealed record RateLimitHeaders(long? Limit, long? Remaining, DateTimeOffset? Reset, string? Policy)
{
    // Bluesky sends RateLimit-Reset as epoch seconds; the IETF draft uses delta seconds. No epoch value
    // this small is plausible (10^9 is 2001), so smaller values are read as deltas.
    private const long SmallestEpochSeconds = 1_000_000_000;

    /// <summary>Parses the headers, or returns null when none of them is present.</summary>
    public static RateLimitHeaders? From(HttpResponseHeaders headers, DateTimeOffset now)
    {
        var limit = ReadLong(headers, "RateLimit-Limit");
        var remaining = ReadLong(headers, "RateLimit-Remaining");
        var reset = ReadLong(headers, "RateLimit-Reset") is { } seconds
            ? seconds < SmallestEpochSeconds
                ? now.AddSeconds(seconds)
                : DateTimeOffset.FromUnixTimeSeconds(Math.Min(seconds, DateTimeOffset.MaxValue.ToUnixTimeSeconds()))
            : (DateTimeOffset?)null;
        var policy = headers.TryGetValues("RateLimit-Policy", out var values) ? string.Join(", ", values) : null;

        return limit is null && remaining is null && reset is null && policy is null
            ? null
            : new RateLimitHeaders(limit, remaining, reset, policy);
    }

    private static long? ReadLong(HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values)
        && long.TryParse(values.FirstOrDefault(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : null;
}
