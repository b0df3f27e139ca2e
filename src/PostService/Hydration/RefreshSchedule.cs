using Microsoft.Extensions.Options;

namespace PostService.Hydration;

/// <summary>
/// The pure refresh rule: an <c>ok</c> post is fetched again at fixed ages after it was first served
/// (<c>PostService:Hydration:RefreshAfter</c>), so that its engagement is seen growing. A fetch covers every age it comes
/// after (a late refresh does not bring the missed ones back); the next refresh is at the first age still ahead of it.
/// </summary>
public sealed class RefreshSchedule(IReadOnlyList<TimeSpan> ages)
{
    public RefreshSchedule(IOptions<HydrationOptions> options)
        : this(TryParseAges(options.Value.RefreshAfter, out var ages, out _) ? ages : [])
    {
    }

    /// <summary>The ages after first serving, shortest first; none when refreshes are off.</summary>
    public IReadOnlyList<TimeSpan> Ages { get; } = ages.Distinct().Order().ToArray();

    public bool IsOff => Ages.Count == 0;

    /// <summary>When a post first served at <paramref name="firstServedAt"/> and fetched at <paramref name="fetchedAt"/> is due again; null once no age is ahead.</summary>
    public DateTimeOffset? NextRefresh(DateTimeOffset firstServedAt, DateTimeOffset fetchedAt)
    {
        foreach (var age in Ages)
        {
            if (firstServedAt + age > fetchedAt)
            {
                return firstServedAt + age;
            }
        }
        return null;
    }

    /// <summary>Reads a comma-separated list of positive <see cref="Age"/>s (<c>1h,6h,24h,72h</c>); an empty text means no refreshes.</summary>
    public static bool TryParseAges(string? text, out IReadOnlyList<TimeSpan> ages, out string? invalid)
    {
        var parsed = new List<TimeSpan>();
        foreach (var part in (text ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Age.TryParse(part, out var age) || age <= TimeSpan.Zero)
            {
                (ages, invalid) = ([], part);
                return false;
            }
            parsed.Add(age);
        }
        (ages, invalid) = (parsed, null);
        return true;
    }
}
