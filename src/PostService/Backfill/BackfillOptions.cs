using System.ComponentModel.DataAnnotations;

namespace PostService.Backfill;

/// <summary>How participants' repositories are downloaded and read. Bound from <c>PostService:Backfill</c>.</summary>
public sealed class BackfillOptions
{
    public const string Section = "PostService:Backfill";

    /// <summary>Largest repository downloaded (bytes of the CAR file); a larger one fails its job.</summary>
    [Range(1_024, 64L * 1024 * 1024 * 1024)]
    public long MaxRepoBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>Repositories downloaded and read at once.</summary>
    [Range(1, 64)]
    public int Parallelism { get; set; } = 2;

    /// <summary>Time limit for downloading one repository, body included.</summary>
    [Range(1, 86_400)]
    public int DownloadTimeoutSeconds { get; set; } = 900;

    /// <summary>
    /// How long a claim on a job lasts; renewed while the job runs, so it only runs out when its process died, and then
    /// another replica takes the job over.
    /// </summary>
    [Range(3, 3_600)]
    public int ClaimLeaseSeconds { get; set; } = 120;

    /// <summary>Where downloads are written while they are read; empty means the system's temporary directory.</summary>
    public string? TempDirectory { get; set; }

    /// <summary>Run the background worker that takes jobs enqueued through <c>POST /backfill/repos</c>.</summary>
    public bool Enabled { get; set; } = true;
}
