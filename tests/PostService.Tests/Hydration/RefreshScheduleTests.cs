using Microsoft.Extensions.Time.Testing;
using PostService.Hydration;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Hydration;

public sealed class RefreshScheduleTests
{
    private static readonly FakeTimeProvider Time = new(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));
    private static readonly DateTimeOffset FirstServed = Time.GetUtcNow();
    private readonly RefreshSchedule _schedule = new([TimeSpan.FromHours(1), TimeSpan.FromHours(6), TimeSpan.FromHours(24), TimeSpan.FromHours(72)]);

    private DateTimeOffset? NextAfterFetchAt(TimeSpan sinceFirstServed) => _schedule.NextRefresh(FirstServed, FirstServed + sinceFirstServed);

    [Fact]
    public void AFirstFetchSoonAfterServingIsRefreshedAtEachAgeInTurn()
    {
        Assert.Equal(FirstServed.AddHours(1), NextAfterFetchAt(TimeSpan.FromSeconds(2)));
        Assert.Equal(FirstServed.AddHours(6), NextAfterFetchAt(TimeSpan.FromHours(1)));
        Assert.Equal(FirstServed.AddHours(24), NextAfterFetchAt(TimeSpan.FromHours(6.5)));
        Assert.Equal(FirstServed.AddHours(72), NextAfterFetchAt(TimeSpan.FromHours(24)));
        Assert.Null(NextAfterFetchAt(TimeSpan.FromHours(72)));
    }

    [Fact]
    public void ALateRefreshCoversTheAgesItCameAfter()
    {
        // A worker busy with new URIs for a day and a half: the 1h, 6h and 24h refreshes are one fetch, the next is at 72h.
        Assert.Equal(FirstServed.AddHours(72), NextAfterFetchAt(TimeSpan.FromHours(36)));
    }

    [Fact]
    public void APostFirstServedLongAgoIsNotScheduled()
    {
        Assert.Null(_schedule.NextRefresh(FirstServed.AddDays(-30), FirstServed));
    }

    [Fact]
    public void NoAgesMeansNoRefreshes()
    {
        var off = new RefreshSchedule([]);

        Assert.True(off.IsOff);
        Assert.Null(off.NextRefresh(FirstServed, FirstServed));
    }

    [Fact]
    public void TheSettingIsAListOfAgesInAnyOrder()
    {
        Assert.True(RefreshSchedule.TryParseAges(" 6h, 90m ,1d,30s,6h", out var ages, out _));

        Assert.Equal([TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(90), TimeSpan.FromHours(6), TimeSpan.FromDays(1)], new RefreshSchedule(ages).Ages);
        Assert.Equal(["30s", "90m", "6h", "1d"], new RefreshSchedule(ages).Ages.Select(Age.ToText));
        Assert.True(RefreshSchedule.TryParseAges("", out var none, out _));
        Assert.Empty(none);
    }

    [Theory]
    [InlineData("1h,soon", "soon")]
    [InlineData("0h", "0h")]
    [InlineData("-1h", "-1h")]
    [InlineData("24", "24")]
    public void AnAgeThatIsNotOneIsNamed(string setting, string invalid)
    {
        Assert.False(RefreshSchedule.TryParseAges(setting, out _, out var named));
        Assert.Equal(invalid, named);
    }

    [Fact]
    public void ABadScheduleStopsTheServiceAtStartNamingTheSetting()
    {
        using var service = new PostServiceFactory(new Dictionary<string, string?> { ["PostService:Hydration:RefreshAfter"] = "1h,tomorrow" });

        var error = Assert.ThrowsAny<Exception>(() => service.CreateClient());

        Assert.Contains("PostService:Hydration:RefreshAfter must be a comma-separated list of positive ages", error.ToString());
        Assert.Contains("'tomorrow' is not one", error.ToString());
    }
}
