namespace PostService.Tagging;

/// <summary>Who put a tag on a post; stored lower-case in <c>post_tags.applied_by</c>.</summary>
public enum TagSource
{
    /// <summary>An analyst, through the API.</summary>
    User,

    /// <summary>A rule of <c>PostService:Tagging:Rules</c>, at hydration.</summary>
    Rule,

    /// <summary>A classifier, through the API, with its confidence and model version.</summary>
    Model,
}
