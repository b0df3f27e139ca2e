using Microsoft.Extensions.DependencyInjection;
using PostService.Backfill;
using PostService.Storage;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Backfill;

/// <summary>
/// The job table replicas share: a job is claimed by one replica at a time, a finished one is not enqueued again unless
/// refreshed, and a job whose replica died (its lease ran out) is taken over.
/// </summary>
public abstract class BackfillClaimTests(DatabaseProvider provider) : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly string[] Dids = ["did:plc:aaaa", "did:plc:bbbb", "did:plc:cccc"];
    // Without the service's own worker, which would claim the jobs too.
    private readonly PostServiceFactory _service = new(new Dictionary<string, string?> { ["PostService:Backfill:Enabled"] = "false" }, provider: provider);

    public void Dispose() => _service.Dispose();

    private BackfillRepository Jobs => _service.Services.GetRequiredService<BackfillRepository>();

    private Task<string?> ClaimAsync(string replica, DateTimeOffset at) => Jobs.ClaimAsync(Dids, replica, at, at.AddMinutes(2), CancellationToken.None);

    [DatabaseFact]
    public async Task EachJobIsClaimedByOneReplicaAndADeadReplicasJobIsTakenOver()
    {
        await Jobs.EnqueueAsync(new BackfillRequest(Dids, null, null, null, Refresh: false), Now, CancellationToken.None);

        var claims = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => ClaimAsync($"replica-{i}", Now)));
        Assert.Equal(Dids, claims.OfType<string>().Order(StringComparer.Ordinal));
        Assert.Equal(3, claims.Count(claim => claim is null));

        var died = claims.OfType<string>().First();
        var holder = $"replica-{Array.IndexOf(claims, died)}";
        foreach (var did in claims.OfType<string>().Where(did => did != died))
        {
            await Jobs.CompleteAsync(did, $"replica-{Array.IndexOf(claims, did)}", "rev1", 10, [], new Dictionary<string, RepoPostMetadata>(), new HashSet<string>(), Now, CancellationToken.None);
        }
        Assert.Null(await ClaimAsync("late", Now.AddMinutes(1)));
        Assert.Equal(died, await ClaimAsync("late", Now.AddMinutes(3)));
        // The dead replica's late completion writes nothing: its records are not taken for the job's.
        var stale = new RepoRecordRow($"at://{died}/app.bsky.feed.like/3k", died, "app.bsky.feed.like", "3k", "bafy", "like", null, "at://x", null, "{}");
        Assert.Equal(0, await Jobs.CompleteAsync(died, holder, "stale", 10, [stale], new Dictionary<string, RepoPostMetadata>(), new HashSet<string>(), Now.AddMinutes(3), CancellationToken.None));
        Assert.Equal(0, _service.Count("SELECT count(*) FROM repo_records"));
        Assert.Equal(BackfillStatus.InProgress, (await Jobs.GetAsync(died, CancellationToken.None))!.Status);

        await Jobs.EnqueueAsync(new BackfillRequest(Dids, null, null, null, Refresh: false), Now.AddMinutes(4), CancellationToken.None);
        Assert.Equal(
            [BackfillStatus.Complete, BackfillStatus.Complete, BackfillStatus.InProgress],
            (await Jobs.ListAsync(Dids, CancellationToken.None)).Select(job => job.Status).Order(StringComparer.Ordinal));
        await Jobs.EnqueueAsync(new BackfillRequest(Dids, null, null, null, Refresh: true), Now.AddMinutes(5), CancellationToken.None);
        Assert.All(await Jobs.ListAsync(Dids, CancellationToken.None), job => Assert.Equal(BackfillStatus.Enqueued, job.Status));
    }

    public sealed class OnSqlite() : BackfillClaimTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgres() : BackfillClaimTests(DatabaseProvider.Postgres), IRunsOnPostgres;
}
