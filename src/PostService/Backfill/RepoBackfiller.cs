using Microsoft.Extensions.Options;
using PostService.Atproto;
using PostService.Hydration;

namespace PostService.Backfill;

/// <summary>Live counts of a backfill, for the CLI's progress bar.</summary>
public sealed class BackfillProgress
{
    private long _done, _failed, _records, _bytes;

    public long Done => Interlocked.Read(ref _done);
    public long Failed => Interlocked.Read(ref _failed);
    public long Records => Interlocked.Read(ref _records);
    public long Bytes => Interlocked.Read(ref _bytes);

    internal void AddDone(long records, long bytes)
    {
        Interlocked.Increment(ref _done);
        Interlocked.Add(ref _records, records);
        Interlocked.Add(ref _bytes, bytes);
    }

    internal void AddFailed()
    {
        Interlocked.Increment(ref _done);
        Interlocked.Increment(ref _failed);
    }
}

/// <summary>
/// Works through the job table: claims a DID (several at once, up to <see cref="BackfillOptions.Parallelism"/>), downloads its
/// repository, reads it (CAR, DAG-CBOR, the commit's Merkle search tree), and stores the records of the kinds asked for inside
/// the window. A malformed repository, an unreachable PDS or an oversized download fails that DID's job with the reason; the
/// others go on. A job whose process dies keeps its claim only until the lease runs out; then any replica resumes it.
/// </summary>
public sealed class RepoBackfiller(
    BackfillRepository jobs, RepoDownloader downloader, IOptions<BackfillOptions> options, IOptions<HydrationOptions> hydration,
    TimeProvider time, ILogger<RepoBackfiller> logger)
{
    private readonly string _replicaId = hydration.Value.ReplicaId;
    private TimeSpan Lease => TimeSpan.FromSeconds(options.Value.ClaimLeaseSeconds);

    /// <summary>Backfills due jobs (only those of <paramref name="onlyDids"/> when given) until none is left.</summary>
    public async Task RunAsync(IReadOnlyCollection<string>? onlyDids, BackfillProgress progress, CancellationToken cancellationToken) =>
        await Task.WhenAll(Enumerable.Range(0, options.Value.Parallelism).Select(_ => Task.Run(async () =>
        {
            while (await ClaimAsync(onlyDids, cancellationToken) is { } did)
            {
                await BackfillAsync(did, progress, cancellationToken);
            }
        }, cancellationToken)));

    private Task<string?> ClaimAsync(IReadOnlyCollection<string>? onlyDids, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return jobs.ClaimAsync(onlyDids, _replicaId, now, now + Lease, cancellationToken);
    }

    private async Task BackfillAsync(string did, BackfillProgress progress, CancellationToken cancellationToken)
    {
        using var renewing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var renewal = RenewAsync(did, renewing.Token);
        try
        {
            var failure = await ReadAndStoreAsync(did, progress, cancellationToken);
            if (failure is not null)
            {
                logger.LogWarning("Backfill of {Did} failed: {Error}", did, failure);
                await jobs.FailAsync(did, _replicaId, failure, time.GetUtcNow(), cancellationToken);
                progress.AddFailed();
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // One bad repository must not stop the others.
            logger.LogError(exception, "Backfill of {Did} failed", did);
            await jobs.FailAsync(did, _replicaId, $"{exception.GetType().Name}: {exception.Message}", time.GetUtcNow(), CancellationToken.None);
            progress.AddFailed();
        }
        finally
        {
            await renewing.CancelAsync();
            await renewal;
        }
    }

    /// <summary>Null when the records are stored, else why not.</summary>
    private async Task<string?> ReadAndStoreAsync(string did, BackfillProgress progress, CancellationToken cancellationToken)
    {
        var job = await jobs.GetAsync(did, cancellationToken) ?? throw new InvalidOperationException($"the job of {did} is gone");
        using var download = await downloader.DownloadAsync(did, cancellationToken);
        if (download.File is not { } file)
        {
            return download.Failure;
        }
        var records = new List<RepoRecordRow>();
        var posts = new Dictionary<string, RepoPostMetadata>(StringComparer.Ordinal);
        // Every post the repository holds, inside the window or not: a served post missing from it was deleted.
        var postsInRepo = new HashSet<string>(StringComparer.Ordinal);
        string rev;
        try
        {
            var repo = await RepoReader.OpenAsync(file, CarReaderOptions.Default, cancellationToken);
            if (repo.Commit.Did != did)
            {
                return $"the repository's commit is signed for {repo.Commit.Did}, not {did}";
            }
            rev = repo.Commit.Rev;
            foreach (var record in repo.ReadRecords())
            {
                if (record.Collection == RepoRecordClassifier.PostCollection)
                {
                    postsInRepo.Add($"at://{did}/{record.Collection}/{record.RecordKey}");
                }
                if (RepoRecordClassifier.Classify(did, record.Collection, record.RecordKey, record.Cid.ToString(), record.Value) is not { } row
                    || !job.Keeps(row))
                {
                    continue;
                }
                records.Add(row);
                if (RepoRecordClassifier.PostMetadata(row, record.Value) is { } post)
                {
                    posts[post.PostUri] = post;
                }
            }
        }
        catch (AtprotoFormatException exception)
        {
            return $"malformed repository: {exception.Message}";
        }
        await jobs.CompleteAsync(did, _replicaId, rev, download.Bytes, records, posts, postsInRepo, time.GetUtcNow(), cancellationToken);
        progress.AddDone(records.Count, download.Bytes);
        logger.LogInformation("Backfilled {Did}: {Records} records (rev {Rev}, {Bytes} bytes)", did, records.Count, rev, download.Bytes);
        return null;
    }

    private async Task RenewAsync(string did, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(Lease / 3, time, cancellationToken);
                await jobs.RenewAsync(did, _replicaId, time.GetUtcNow() + Lease, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            logger.LogWarning(exception, "Could not renew the claim on the backfill of {Did}", did);
        }
    }
}
