using System.Globalization;

namespace PostService.Hydration;

/// <summary>Ages written as a number and a unit (<c>90s</c>, <c>30m</c>, <c>6h</c>, <c>7d</c>), in settings and query strings.</summary>
public static class Age
{
    public const string Format = "a number followed by d, h, m or s, for example 7d";

    public static bool TryParse(string text, out TimeSpan age)
    {
        age = default;
        if (text.Length < 2 || !double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) || amount < 0)
        {
            return false;
        }
        TimeSpan? parsed = char.ToLowerInvariant(text[^1]) switch
        {
            'd' => TimeSpan.FromDays(amount),
            'h' => TimeSpan.FromHours(amount),
            'm' => TimeSpan.FromMinutes(amount),
            's' => TimeSpan.FromSeconds(amount),
            _ => null,
        };
        age = parsed ?? default;
        return parsed is not null;
    }

    /// <summary>The shortest exact text for <paramref name="age"/> in the largest whole unit.</summary>
    public static string ToText(TimeSpan age) =>
        age.Ticks % TimeSpan.TicksPerDay == 0 ? $"{age.Ticks / TimeSpan.TicksPerDay}d"
        : age.Ticks % TimeSpan.TicksPerHour == 0 ? $"{age.Ticks / TimeSpan.TicksPerHour}h"
        : age.Ticks % TimeSpan.TicksPerMinute == 0 ? $"{age.Ticks / TimeSpan.TicksPerMinute}m"
        : age.TotalSeconds.ToString(CultureInfo.InvariantCulture) + "s";
}
