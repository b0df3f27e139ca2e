using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using PostService.Hydration;
using PostService.Storage;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Hydration;

/// <summary>
/// The due rule, through a real SQLite database: each case asks both the hint path's check and the sweep, which must agree.
/// </summary>
public sealed class DueRuleTests : IClassFixture<MigratedSqlite>
{
    private const int MaxAttempts = 5;
    private readonly MigratedSqlite _database;
    private readonly HydrationRepository _posts;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));
    private readonly DateTimeOffset _runStarted;

    public DueRuleTests(MigratedSqlite database)
    {
        _database = database;
        _posts = database.Services.GetRequiredService<HydrationRepository>();
        _runStarted = _time.GetUtcNow();
        _time.Advance(TimeSpan.FromMinutes(10)); // the run has been going on a while
    }

    private DateTimeOffset Now => _time.GetUtcNow();

    [Fact]
    public async Task APendingPostIsAlwaysDue()
    {
        Assert.True(await IsDueAsync(new Row("pending")));
        Assert.True(await IsDueAsync(new Row("pending", Attempts: MaxAttempts, LastHydratedAt: Now)));
    }

    [Fact]
    public async Task AFailedPostIsDueWhileAttemptsAreLeftAndItsRetryTimeHasCome()
    {
        Assert.True(await IsDueAsync(new Row("error", Attempts: 1, NextAttemptAt: Now - TimeSpan.FromSeconds(1))));
        Assert.True(await IsDueAsync(new Row("error", Attempts: 1, NextAttemptAt: Now)));
        Assert.True(await IsDueAsync(new Row("error", Attempts: 1))); // written without a retry time (the Python tool)
        Assert.False(await IsDueAsync(new Row("error", Attempts: 1, NextAttemptAt: Now + TimeSpan.FromSeconds(1))));
        Assert.False(await IsDueAsync(new Row("error", Attempts: MaxAttempts)));
    }

    [Fact]
    public async Task AForcedRunTakesEveryFailedPost()
    {
        Assert.True(await IsDueAsync(new Row("error", Attempts: MaxAttempts), force: true));
        Assert.True(await IsDueAsync(new Row("error", Attempts: 1, NextAttemptAt: Now + TimeSpan.FromHours(1)), force: true));
    }

    [Fact]
    public async Task ANotFoundPostIsDueOnlyWhenForced()
    {
        Assert.False(await IsDueAsync(new Row("not_found")));
        Assert.False(await IsDueAsync(new Row("not_found"), refresh: true));
        Assert.True(await IsDueAsync(new Row("not_found"), force: true));
    }

    [Fact]
    public async Task AHydratedPostIsDueOnlyOnARefreshOlderThanTheCutoff()
    {
        var cutoff = _runStarted - TimeSpan.FromDays(7);
        Assert.False(await IsDueAsync(new Row("ok", LastHydratedAt: cutoff - TimeSpan.FromDays(1))));
        Assert.False(await IsDueAsync(new Row("ok", LastHydratedAt: cutoff - TimeSpan.FromDays(1)), force: true));
        Assert.True(await IsDueAsync(new Row("ok", LastHydratedAt: cutoff - TimeSpan.FromDays(1)), refresh: true));
        Assert.True(await IsDueAsync(new Row("ok", LastHydratedAt: cutoff - TimeSpan.FromDays(1)), refresh: true, refreshBefore: cutoff));
        Assert.False(await IsDueAsync(new Row("ok", LastHydratedAt: cutoff + TimeSpan.FromDays(1)), refresh: true, refreshBefore: cutoff));
    }

    [Fact]
    public async Task NothingHydratedInThisRunIsDueAgain()
    {
        var duringTheRun = _runStarted + TimeSpan.FromMinutes(1);
        Assert.False(await IsDueAsync(new Row("ok", LastHydratedAt: duringTheRun), refresh: true));
        Assert.False(await IsDueAsync(new Row("not_found", LastHydratedAt: duringTheRun), force: true));
        Assert.False(await IsDueAsync(new Row("error", Attempts: 1, LastHydratedAt: duringTheRun), force: true));
        Assert.True(await IsDueAsync(new Row("error", Attempts: 1, LastHydratedAt: _runStarted - TimeSpan.FromMinutes(1)), force: true));
    }

    [Fact]
    public async Task AnInvalidPostIsNeverDue()
    {
        Assert.False(await IsDueAsync(new Row("invalid"), force: true, refresh: true));
    }

    [Fact]
    public async Task ThePostsAnotherProcessHoldsAreLeftOutOfTheSweepUntilTheirLeaseRunsOut()
    {
        var held = await InsertAsync(new Row("pending", ClaimedUntil: Now + TimeSpan.FromSeconds(1)));
        var expired = await InsertAsync(new Row("pending", ClaimedUntil: Now));
        var selection = Selection(force: false, refresh: false, refreshBefore: null);

        var swept = (await _posts.SelectWorkAsync(selection, "pending", 0, 100_000, Now, CancellationToken.None)).Select(post => post.PostUri).ToList();

        Assert.DoesNotContain(held, swept);
        Assert.Contains(expired, swept);
    }

    private async Task<bool> IsDueAsync(Row row, bool force = false, bool refresh = false, DateTimeOffset? refreshBefore = null)
    {
        var uri = await InsertAsync(row);
        var selection = Selection(force, refresh, refreshBefore);

        var checkedDue = (await _posts.SelectDueAsync([uri], selection, Now, CancellationToken.None))[uri].IsDue;
        var swept = selection.Statuses.Contains(row.Status)
            && (await _posts.SelectWorkAsync(selection, row.Status, 0, 100_000, Now, CancellationToken.None)).Any(post => post.PostUri == uri);
        Assert.Equal(checkedDue, swept);
        return checkedDue;
    }

    private WorkSelection Selection(bool force, bool refresh, DateTimeOffset? refreshBefore) =>
        new(force, refresh, refreshBefore is { } before ? DbTime.ToText(before) : null, MaxAttempts, DbTime.ToText(_runStarted));

    private async Task<string> InsertAsync(Row row)
    {
        var uri = $"at://did:plc:due/app.bsky.feed.post/{Guid.NewGuid():N}";
        await _database.ExecuteAsync("""
            INSERT INTO posts (post_uri, hydration_status, attempts, next_attempt_at, last_hydrated_at, claimed_by, claimed_until)
            VALUES (@Uri, @Status, @Attempts, to_ts(@NextAttemptAt), to_ts(@LastHydratedAt), @ClaimedBy, to_ts(@ClaimedUntil))
            """, new
        {
            Uri = uri,
            row.Status,
            row.Attempts,
            NextAttemptAt = Text(row.NextAttemptAt),
            LastHydratedAt = Text(row.LastHydratedAt),
            ClaimedBy = row.ClaimedUntil is null ? null : "another-process",
            ClaimedUntil = Text(row.ClaimedUntil),
        });
        return uri;
    }

    private static string? Text(DateTimeOffset? time) => time is { } value ? DbTime.ToText(value) : null;

    private sealed record Row(string Status, long Attempts = 0, DateTimeOffset? NextAttemptAt = null, DateTimeOffset? LastHydratedAt = null,
        DateTimeOffset? ClaimedUntil = null);
}
