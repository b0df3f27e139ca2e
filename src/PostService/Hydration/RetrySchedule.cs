using Microsoft.Extensions.Options;

namespace PostService.Hydration;

/// <summary>Why a post's fetch failed, which decides when it is tried again.</summary>
public enum FailureKind
{
    /// <summary>The call failed (5xx, timeout, connection): retried later, using up one attempt.</summary>
    Transient,

    /// <summary>The AppView rejects the URI itself: no retry until a forced run.</summary>
    Permanent,

    /// <summary>The AppView is down, not the post: retried after the first delay, its attempts left as they were.</summary>
    Outage,
}

/// <summary>The pure retry rules: how a failure changes a post's attempts and when it is tried again.</summary>
public sealed class RetrySchedule(int maxAttempts, TimeSpan firstDelay)
{
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromDays(1);

    public RetrySchedule(IOptions<HydrationOptions> options)
        : this(options.Value.MaxAttempts, TimeSpan.FromSeconds(options.Value.RetryBackoffSeconds))
    {
    }

    /// <summary>The wait after the <paramref name="attempts"/>th failed attempt: doubling from the first delay, up to a day.</summary>
    public TimeSpan Backoff(long attempts)
    {
        var delay = firstDelay * Math.Pow(2, Math.Min(attempts - 1, 20));
        return delay < MaxBackoff ? delay : MaxBackoff;
    }

    /// <summary>A post's attempts after a failure, and when it is due again (null: not until a forced run).</summary>
    public (long Attempts, DateTimeOffset? RetryAt) AfterFailure(long attemptsBefore, FailureKind kind, DateTimeOffset now)
    {
        var attempts = kind switch
        {
            FailureKind.Permanent => maxAttempts,
            FailureKind.Transient => attemptsBefore + 1,
            _ => attemptsBefore,
        };
        return attempts < maxAttempts ? (attempts, now + Backoff(kind == FailureKind.Outage ? 1 : attempts)) : (attempts, null);
    }
}
