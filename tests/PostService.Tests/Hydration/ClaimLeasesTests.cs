using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using PostService.Hydration;
using PostService.Storage;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Hydration;

public sealed class ClaimLeasesTests : IClassFixture<MigratedSqlite>
{
    private const string Mine = "this-replica";
    private const string Theirs = "other-replica";
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(60);
    private readonly MigratedSqlite _database;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));
    private readonly ClaimLeases _leases;
    private readonly string _prefix = $"at://did:plc:{Guid.NewGuid():N}/app.bsky.feed.post/";

    public ClaimLeasesTests(MigratedSqlite database)
    {
        _database = database;
        _leases = new ClaimLeases(database.Services.GetRequiredService<HydrationRepository>(),
            Options.Create(new HydrationOptions { ClaimLeaseSeconds = (int)Lease.TotalSeconds, ReplicaId = Mine }), _time, NullLogger<ClaimLeases>.Instance);
    }

    [Fact]
    public async Task ClaimsAreRenewedEveryThirdOfTheLeaseAndOnlyThisProcesssOwn()
    {
        var start = _time.GetUtcNow();
        await ClaimAsync("mine", Mine, start + Lease);
        await ClaimAsync("theirs", Theirs, start + Lease);
        using var stop = new CancellationTokenSource();
        var renewing = _leases.KeepAliveAsync(stop.Token);

        _time.Advance(TimeSpan.FromSeconds(19));
        Assert.Equal(start + Lease, await ClaimedUntilAsync("mine")); // not yet

        _time.Advance(TimeSpan.FromSeconds(1));
        await Eventually.TrueAsync(() => ClaimedUntilAsync("mine").Result == start + TimeSpan.FromSeconds(20) + Lease, "the first renewal");
        _time.Advance(TimeSpan.FromSeconds(20));
        await Eventually.TrueAsync(() => ClaimedUntilAsync("mine").Result == start + TimeSpan.FromSeconds(40) + Lease, "the second renewal");

        await stop.CancelAsync();
        await renewing;
        Assert.Equal(start + Lease, await ClaimedUntilAsync("theirs"));
    }

    [Fact]
    public async Task StoppingGivesBackThisProcesssClaimsOnly()
    {
        var until = _time.GetUtcNow() + Lease;
        await ClaimAsync("given-back", Mine, until);
        await ClaimAsync("kept", Theirs, until);

        await _leases.ReleaseAllAsync();

        Assert.Null(await ClaimedUntilAsync("given-back"));
        Assert.Equal(until, await ClaimedUntilAsync("kept"));
    }

    [Fact]
    public void AClaimLastsOneLeaseFromWhenItIsTaken()
    {
        Assert.Equal(_time.GetUtcNow() + Lease, _leases.ClaimedUntil(_time.GetUtcNow()));
        Assert.Equal(Lease / 3, _leases.RenewalInterval);
    }

    private Task ClaimAsync(string name, string replica, DateTimeOffset until) =>
        _database.ExecuteAsync("INSERT INTO posts (post_uri, claimed_by, claimed_until) VALUES (@Uri, @Replica, to_ts(@Until))",
            new { Uri = _prefix + name, Replica = replica, Until = DbTime.ToText(until) });

    private async Task<DateTimeOffset?> ClaimedUntilAsync(string name) =>
        DbTime.TryParse(await _database.QuerySingleAsync<string?>("SELECT ts_text(claimed_until) FROM posts WHERE post_uri = @Uri", new { Uri = _prefix + name }),
            out var until) ? until : null;
}
