using System.ComponentModel.DataAnnotations;

namespace PostService.Identity;

/// <summary>Where DIDs and handles are resolved, how long answers are kept, and how PDSs are asked. Bound from <c>PostService:Identity</c>.</summary>
public sealed class IdentityOptions
{
    public const string Section = "PostService:Identity";

    /// <summary>The <c>did:plc</c> directory.</summary>
    [Required, Url]
    public string PlcUrl { get; set; } = "https://plc.directory";

    /// <summary>Where <c>com.atproto.identity.resolveHandle</c> is asked; empty means the AppView (<c>PostService:AppView:BaseUrl</c>).</summary>
    [Url]
    public string? HandleResolverUrl { get; set; }

    /// <summary>How long a DID document (PDS endpoint and handle) is kept.</summary>
    [Range(0, 7 * 86_400)]
    public int DidCacheSeconds { get; set; } = 3_600;

    /// <summary>How long a handle's DID is kept.</summary>
    [Range(0, 7 * 86_400)]
    public int HandleCacheSeconds { get; set; } = 3_600;

    /// <summary>How long a failed resolution is remembered, so that a broken DID is not asked for again by every post.</summary>
    [Range(0, 86_400)]
    public int FailureCacheSeconds { get; set; } = 60;

    /// <summary>Calls allowed to one PDS host in any window of <see cref="PdsBudgetWindowSeconds"/>; Bluesky publishes 3,000 per 5 minutes.</summary>
    [Range(1, 1_000_000)]
    public int PdsBudgetCalls { get; set; } = 3_000;

    [Range(1, 86_400)]
    public int PdsBudgetWindowSeconds { get; set; } = 300;

    /// <summary>The longest wait for a PDS's budget a call accepts; beyond it the post's reason is <c>unknown</c> and asked again later.</summary>
    [Range(0, 3_600)]
    public int MaxBudgetWaitSeconds { get; set; } = 30;

    /// <summary>Time limit for one HTTP attempt to a PDS, the PLC directory, a did:web host or the handle resolver.</summary>
    [Range(1, 300)]
    public int AttemptTimeoutSeconds { get; set; } = 10;

    [Range(0, 10)]
    public int MaxRetries { get; set; } = 2;

    [Range(1, 60_000)]
    public int RetryBaseDelayMs { get; set; } = 500;

    /// <summary>Posts whose absence is explained at once (each costs up to two PDS calls).</summary>
    [Range(1, 64)]
    public int ExplainParallelism { get; set; } = 4;

    /// <summary>Asks each PDS why the AppView left a post out. Off, such posts stay <c>not_found</c> without a reason.</summary>
    public bool ExplainNotFound { get; set; } = true;

    /// <summary>Wait before asking again about a post whose reason is <c>unknown</c>; it doubles with each attempt, up to a day.</summary>
    [Range(1, 86_400)]
    public int UnknownRetrySeconds { get; set; } = 300;

    /// <summary>Times a post with an <c>unknown</c> reason is asked about again before it waits for a forced run.</summary>
    [Range(0, 100)]
    public int UnknownMaxAttempts { get; set; } = 5;
}
