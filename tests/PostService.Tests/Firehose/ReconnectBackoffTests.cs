using PostService.Firehose;

namespace PostService.Tests.Firehose;

public sealed class ReconnectBackoffTests
{
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(60);

    [Fact]
    public void TheDelayDoublesWithEachFailureUpToTheMaximum()
    {
        Assert.Equal(TimeSpan.FromSeconds(1), ReconnectBackoff.Delay(1, Max, jitter: 1));
        Assert.Equal(TimeSpan.FromSeconds(8), ReconnectBackoff.Delay(4, Max, jitter: 1));
        Assert.Equal(Max, ReconnectBackoff.Delay(30, Max, jitter: 1));
    }

    [Fact]
    public void JitterTakesBetweenHalfAndAllOfTheDelay()
    {
        Assert.Equal(TimeSpan.FromSeconds(4), ReconnectBackoff.Delay(4, Max, jitter: 0));
        Assert.Equal(TimeSpan.FromSeconds(6), ReconnectBackoff.Delay(4, Max, jitter: 0.5));
    }

    [Fact]
    public void ARetryAfterLongerThanTheBackoffIsWaitedOut()
    {
        Assert.Equal(TimeSpan.FromSeconds(120), ReconnectBackoff.Delay(1, Max, jitter: 0, retryAfter: TimeSpan.FromSeconds(120)));
        Assert.Equal(TimeSpan.FromSeconds(4), ReconnectBackoff.Delay(4, Max, jitter: 0, retryAfter: TimeSpan.FromSeconds(1)));
    }
}
