using Microsoft.Extensions.Options;
using PostService.Tagging;

namespace PostService.Tests.Tagging;

public sealed class TagRuleTests
{
    private static TagRuleSet RuleSet(params TagRuleOptions[] rules) => new(Options.Create(new TaggingOptions { Rules = [.. rules] }));

    [Theory]
    [InlineData("It will RAIN", true)]
    [InlineData("rainbow", false)]
    [InlineData(null, false)]
    public void APatternMatchesTheTextWithoutRegardToCase(string? text, bool matches)
    {
        var rule = RuleSet(new TagRuleOptions { Tag = "Weather", Pattern = @"\brain\b" }).Rules.Single();

        Assert.Equal("weather", rule.Tag);
        Assert.Equal(matches, rule.Matches(text, []));
    }

    [Fact]
    public void AHashtagRuleMatchesTheNormalisedHashtag()
    {
        var rule = RuleSet(new TagRuleOptions { Tag = "elections", Hashtag = "#ＶＯＴＥ" }).Rules.Single();

        Assert.True(rule.Matches("no hashtag in the text", ["vote"]));
        Assert.False(rule.Matches("#vote in the text but not a facet", ["voting"]));
    }

    [Fact]
    public void InvalidRulesAreRefusedWithTheirSetting()
    {
        var result = new TaggingOptionsValidator().Validate(null, new TaggingOptions
        {
            Rules =
            [
                new TagRuleOptions { Tag = "has space", Pattern = "x" },
                new TagRuleOptions { Tag = "both", Pattern = "x", Hashtag = "y" },
                new TagRuleOptions { Tag = "bad", Pattern = "(" },
            ],
        });

        Assert.True(result.Failed);
        Assert.Contains("PostService:Tagging:Rules:0:Tag", result.FailureMessage);
        Assert.Contains("PostService:Tagging:Rules:1 needs either", result.FailureMessage);
        Assert.Contains("PostService:Tagging:Rules:2:Pattern", result.FailureMessage);
    }
}
