namespace PostService.Hydration;

/// <summary>
/// Tells an outage of the AppView from failures of particular posts: with no call answered for a minute (or none ever),
/// failures are taken for an outage, which must not use up the posts' attempts.
/// </summary>
public sealed class OutageDetector(TimeProvider time)
{
    public static readonly TimeSpan OutageAfter = TimeSpan.FromMinutes(1);

    private long _lastAnswerTicks = DateTimeOffset.MinValue.UtcTicks;

    /// <summary>The AppView answered a call (with posts or a rejection of the request).</summary>
    public void Answered() => Interlocked.Exchange(ref _lastAnswerTicks, time.GetUtcNow().UtcTicks);

    public bool InOutage => Interlocked.Read(ref _lastAnswerTicks) < (time.GetUtcNow() - OutageAfter).UtcTicks;
}
