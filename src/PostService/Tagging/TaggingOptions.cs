using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace PostService.Tagging;

/// <summary>Bound from <c>PostService:Tagging</c>.</summary>
public sealed class TaggingOptions
{
    public const string Section = "PostService:Tagging";

    /// <summary>Applied to every post as it is hydrated, e.g. <c>PostService__Tagging__Rules__0__Tag=weather</c>.</summary>
    public List<TagRuleOptions> Rules { get; set; } = [];
}

/// <summary>One rule: <see cref="Tag"/> goes on posts whose text matches <see cref="Pattern"/>, or that carry <see cref="Hashtag"/>.</summary>
public sealed class TagRuleOptions
{
    public string Tag { get; set; } = "";

    /// <summary>A .NET regular expression over the post's text, case-insensitive.</summary>
    public string? Pattern { get; set; }

    /// <summary>A hashtag, with or without <c>#</c>, compared in its normal form (<see cref="Atproto.Hashtag.Normalize"/>).</summary>
    public string? Hashtag { get; set; }

    /// <summary>Stored with each tag the rule applies, so that a changed rule's tags can be told from the old ones.</summary>
    public string Version { get; set; } = "1";
}

/// <summary>Each rule names a valid tag and exactly one of a pattern that compiles and a hashtag.</summary>
public sealed class TaggingOptionsValidator : IValidateOptions<TaggingOptions>
{
    public ValidateOptionsResult Validate(string? name, TaggingOptions options)
    {
        var failures = new List<string>();
        for (var i = 0; i < options.Rules.Count; i++)
        {
            var rule = options.Rules[i];
            var where = $"{TaggingOptions.Section}:Rules:{i}";
            if (TagName.Normalize(rule.Tag) is null)
            {
                failures.Add($"{where}:Tag '{rule.Tag}' is not a tag name ({TagName.Rule}).");
            }
            if (string.IsNullOrWhiteSpace(rule.Pattern) == string.IsNullOrWhiteSpace(rule.Hashtag))
            {
                failures.Add($"{where} needs either a Pattern or a Hashtag, not both.");
            }
            else if (rule.Hashtag is not null && Atproto.Hashtag.Normalize(rule.Hashtag) is null)
            {
                failures.Add($"{where}:Hashtag is empty.");
            }
            else if (rule.Pattern is not null && !Compiles(rule.Pattern, out var error))
            {
                failures.Add($"{where}:Pattern is not a valid regular expression: {error}");
            }
            if (string.IsNullOrWhiteSpace(rule.Version))
            {
                failures.Add($"{where}:Version is empty.");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool Compiles(string pattern, out string? error)
    {
        try
        {
            _ = new Regex(pattern);
            error = null;
            return true;
        }
        catch (ArgumentException exception)
        {
            error = exception.Message;
            return false;
        }
    }
}
