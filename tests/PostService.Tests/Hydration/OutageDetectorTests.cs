using Microsoft.Extensions.Time.Testing;
using PostService.Hydration;

namespace PostService.Tests.Hydration;

public sealed class OutageDetectorTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void AnAppViewThatNeverAnsweredIsDown()
    {
        Assert.True(new OutageDetector(_time).InOutage);
    }

    [Fact]
    public void FailuresWithinAMinuteOfAnAnswerAreThePostsOwn()
    {
        var outage = new OutageDetector(_time);
        outage.Answered();

        _time.Advance(TimeSpan.FromSeconds(59));

        Assert.False(outage.InOutage);
    }

    [Fact]
    public void AMinuteAndMoreWithoutAnAnswerIsAnOutageUntilTheNextAnswer()
    {
        var outage = new OutageDetector(_time);
        outage.Answered();

        _time.Advance(TimeSpan.FromSeconds(61));
        Assert.True(outage.InOutage);

        outage.Answered();
        Assert.False(outage.InOutage);
    }
}
