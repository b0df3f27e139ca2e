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

    [Theory]
    [InlineData(59, false)]
    [InlineData(60, false)]
    [InlineData(61, true)]
    [InlineData(3_600, true)]
    public void FailuresAreAnOutageOnlyAfterAMinuteWithoutAnAnswer(int secondsSinceAnswer, bool outage)
    {
        var detector = new OutageDetector(_time);
        detector.Answered();

        _time.Advance(TimeSpan.FromSeconds(secondsSinceAnswer));

        Assert.Equal(outage, detector.InOutage);
    }

    [Fact]
    public void AnAnswerEndsTheOutage()
    {
        var detector = new OutageDetector(_time);
        Assert.True(detector.InOutage);

        detector.Answered();

        Assert.False(detector.InOutage);
    }
}
