using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace PostService.Tagging;

/// <summary>A rule ready to apply: the tag it gives and the version stored with it.</summary>
public sealed record TagRule(string Tag, string Version, Regex? Pattern, string? Hashtag)
{
    /// <summary>Whether a post with this text and these (normalised) hashtags gets the tag.</summary>
    public bool Matches(string? text, IReadOnlyCollection<string> hashtags) =>
        Hashtag is not null ? hashtags.Contains(Hashtag) : text is not null && MatchesText(text);

    // A pattern that runs too long on a hostile text does not tag it, rather than hold up hydration.
    private bool MatchesText(string text)
    {
        try
        {
            return Pattern!.IsMatch(text);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }
}

/// <summary>The configured rules (<c>PostService:Tagging:Rules</c>), compiled once.</summary>
public sealed class TagRuleSet(IOptions<TaggingOptions> options)
{
    private static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(250);

    public IReadOnlyList<TagRule> Rules { get; } = options.Value.Rules.Select(rule => new TagRule(
        TagName.Normalize(rule.Tag)!,
        rule.Version,
        string.IsNullOrWhiteSpace(rule.Pattern) ? null
            : new Regex(rule.Pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, MatchTimeout),
        Atproto.Hashtag.Normalize(rule.Hashtag))).ToList();
}
