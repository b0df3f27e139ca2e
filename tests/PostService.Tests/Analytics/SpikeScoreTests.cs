using PostService.Analytics;
using PostService.Storage;

namespace PostService.Tests.Analytics;

public sealed class SpikeScoreTests
{
    private static readonly DateTimeOffset Now = new(2025, 5, 1, 12, 30, 0, TimeSpan.Zero);

    private static HashtagHour Hour(int hoursAgo, long served) => new()
    {
        Name = "t",
        Hour = DbTime.ToText(HashtagStats.HourOf(Now).AddHours(-hoursAgo)),
        TimesServed = served,
        Posts = 1,
    };

    private static TrendingHashtag Score(params HashtagHour[] hours) => SpikeScore.Score("t", hours, Now, recentHours: 4, baselineHours: 24);

    [Fact]
    public void ATagServedSteadilyScoresAboutZeroHoweverPopular()
    {
        var steady = Score([.. Enumerable.Range(0, 28).Select(ago => Hour(ago, 100))]);

        Assert.Equal(100, steady.RecentRate, 3);
        Assert.Equal(100, steady.BaselineRate, 3);
        Assert.Equal(0, steady.Score, 3);
    }

    [Fact]
    public void ATagAppearingFromNothingScoresItsRecentRateAndADoublingScoresAboutTen()
    {
        var appeared = Score(Hour(0, 8), Hour(1, 8), Hour(2, 8), Hour(3, 8));
        var doubled = Score([.. Enumerable.Range(0, 4).Select(ago => Hour(ago, 200)), .. Enumerable.Range(4, 24).Select(ago => Hour(ago, 100))]);

        Assert.Equal(8, appeared.Score, 3);
        Assert.Equal(0, appeared.Baseline.TimesServed);
        Assert.Equal(32, appeared.Recent.TimesServed);
        Assert.InRange(doubled.Score, 9.9, 10.0);
    }

    [Fact]
    public void RecentHoursWeighMoreThanOlderOnesOfTheWindow()
    {
        var latest = Score(Hour(0, 10));
        var earliest = Score(Hour(3, 10));

        Assert.True(latest.Score > earliest.Score * 2, $"{latest.Score} against {earliest.Score}");
        Assert.Equal(0, Score(Hour(4, 10)).Recent.TimesServed);
    }
}
