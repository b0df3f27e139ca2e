using Microsoft.Extensions.Options;

namespace PostService.Hydration;

/// <summary>
/// This process's claims on the posts its calls are fetching: a claim is a lease of <see cref="HydrationOptions.ClaimLeaseSeconds"/>,
/// renewed every third of it while a run goes on, so it only runs out when the process has died.
/// </summary>
public sealed class ClaimLeases(HydrationRepository posts, IOptions<HydrationOptions> options, TimeProvider time, ILogger<ClaimLeases> logger)
{
    private readonly TimeSpan _lease = TimeSpan.FromSeconds(options.Value.ClaimLeaseSeconds);
    private readonly string _replicaId = options.Value.ReplicaId;

    public string ReplicaId => _replicaId;

    public TimeSpan RenewalInterval => _lease / 3;

    /// <summary>When a claim taken at <paramref name="now"/> runs out unless renewed.</summary>
    public DateTimeOffset ClaimedUntil(DateTimeOffset now) => now + _lease;

    /// <summary>Renews every claim this process holds, every <see cref="RenewalInterval"/> from the call on, until cancelled.</summary>
    public async Task KeepAliveAsync(CancellationToken cancellationToken)
    {
        // A fixed cadence: a slow renewal does not push the next one later.
        using var ticks = new PeriodicTimer(RenewalInterval, time);
        try
        {
            while (await ticks.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    await posts.RenewClaimsAsync(_replicaId, ClaimedUntil(time.GetUtcNow()), cancellationToken);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    logger.LogWarning(exception, "Could not renew this process's hydration claims; trying again in {Interval}", RenewalInterval);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Gives back the claims of calls that did not finish, rather than make other processes wait for the lease.</summary>
    public Task ReleaseAllAsync() => posts.ReleaseClaimsAsync(_replicaId, CancellationToken.None);
}
