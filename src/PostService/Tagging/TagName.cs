using System.Text.RegularExpressions;

namespace PostService.Tagging;

/// <summary>Tag names are lower-case: letters, digits and <c>-_.:</c>, starting with a letter or digit, at most 64 characters.</summary>
public static partial class TagName
{
    public const int MaxLength = 64;

    public const string Rule = "1 to 64 characters: lower-case letters, digits, '-', '_', '.', ':', starting with a letter or digit";

    /// <summary>The stored form of <paramref name="name"/> (lower-cased), or null when it is not a valid tag name.</summary>
    public static string? Normalize(string? name)
    {
        var lower = name?.Trim().ToLowerInvariant();
        return lower is not null && ValidName().IsMatch(lower) ? lower : null;
    }

    [GeneratedRegex(@"^[\p{Ll}\p{Lo}\p{Nd}][\p{Ll}\p{Lo}\p{Nd}\-_.:]{0,63}$")]
    private static partial Regex ValidName();
}
