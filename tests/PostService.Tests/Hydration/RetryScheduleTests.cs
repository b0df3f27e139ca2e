using Microsoft.Extensions.Time.Testing;
using PostService.Hydration;

namespace PostService.Tests.Hydration;

public sealed class RetryScheduleTests
{
    private const int MaxAttempts = 5;
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMinutes(1);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));
    private readonly RetrySchedule _schedule = new(MaxAttempts, FirstDelay);

    [Fact]
    public void TheWaitDoublesWithEveryAttempt()
    {
        Assert.Equal(
            [TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(8)],
            Enumerable.Range(1, 4).Select(attempts => _schedule.Backoff(attempts)));
    }

    [Fact]
    public void TheWaitNeverExceedsADay()
    {
        Assert.Equal(TimeSpan.FromMinutes(1_024), _schedule.Backoff(11));
        Assert.Equal(TimeSpan.FromDays(1), _schedule.Backoff(12)); // not 2,048 minutes
        Assert.Equal(TimeSpan.FromDays(1), _schedule.Backoff(1_000));
        Assert.Equal(TimeSpan.FromDays(1), new RetrySchedule(MaxAttempts, TimeSpan.FromDays(1)).Backoff(1));
    }

    [Fact]
    public void ATransientFailureUsesAnAttemptAndWaitsLongerEachTime()
    {
        var now = _time.GetUtcNow();

        Assert.Equal((1, now + TimeSpan.FromMinutes(1)), _schedule.AfterFailure(0, FailureKind.Transient, now));
        Assert.Equal((3, now + TimeSpan.FromMinutes(4)), _schedule.AfterFailure(2, FailureKind.Transient, now));
    }

    [Fact]
    public void TheLastAttemptLeavesThePostForAForcedRun()
    {
        Assert.Equal((MaxAttempts, (DateTimeOffset?)null), _schedule.AfterFailure(MaxAttempts - 1, FailureKind.Transient, _time.GetUtcNow()));
    }

    [Fact]
    public void APermanentFailureUsesEveryAttemptAtOnce()
    {
        Assert.Equal((MaxAttempts, (DateTimeOffset?)null), _schedule.AfterFailure(0, FailureKind.Permanent, _time.GetUtcNow()));
    }

    [Fact]
    public void AFailureDuringAnOutageKeepsTheAttemptsAndComesBackAfterTheFirstDelay()
    {
        var now = _time.GetUtcNow();

        Assert.Equal((3, now + FirstDelay), _schedule.AfterFailure(3, FailureKind.Outage, now));
        Assert.Equal((0, now + FirstDelay), _schedule.AfterFailure(0, FailureKind.Outage, now));
    }
}
