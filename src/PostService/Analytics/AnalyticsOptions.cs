using System.ComponentModel.DataAnnotations;

namespace PostService.Analytics;

/// <summary>Bound from <c>PostService:Analytics</c>.</summary>
public sealed class AnalyticsOptions
{
    public const string Section = "PostService:Analytics";

    /// <summary>How often the service recomputes the recent hours of <c>hashtag_hourly_stats</c>; 0 turns it off.</summary>
    [Range(0, 86_400)]
    public int HashtagStatsIntervalSeconds { get; set; } = 300;

    /// <summary>How many hours back each recomputation goes: servings and engagement older than that change no more.</summary>
    [Range(1, 24 * 365)]
    public int HashtagStatsHours { get; set; } = 48;
}
