using PostService.Hydration;
using PostService.Upstream.AppView;

namespace PostService.Tagging;

/// <summary>Applies <c>PostService:Tagging:Rules</c> to posts as they are hydrated, with <c>applied_by = rule</c> and the rule's version.</summary>
public sealed class RuleTagger(TagRuleSet rules, TagsRepository tags) : IHydratedPostsHandler
{
    private const string RuleTagDescription = "Created by a rule of PostService:Tagging:Rules";

    public async Task HandleAsync(IReadOnlyList<HydratedPost> posts, DateTimeOffset fetchedAt, CancellationToken cancellationToken)
    {
        if (rules.Rules.Count == 0)
        {
            return;
        }
        var verdicts = posts.SelectMany(post => rules.Rules.Select(rule =>
            new RuleVerdict(post.Uri, rule, rule.Matches(post.Text, post.Hashtags ?? [])))).ToList();
        await tags.ApplyRulesAsync(verdicts, RuleTagDescription, fetchedAt, cancellationToken);
    }
}
