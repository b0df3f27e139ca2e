using System.ComponentModel.DataAnnotations;
using PostService.Storage;

namespace PostService.Hydration;

/// <summary>How posts are hydrated from the AppView. Bound from <c>PostService:Hydration</c>.</summary>
public sealed class HydrationOptions : IValidatableObject
{
    public const string Section = "PostService:Hydration";

    /// <summary>Run the background worker. Off, URIs still wait in the database as <c>pending</c>.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How many URIs the in-memory hint queue holds; beyond it, URIs wait for the database sweep.</summary>
    [Range(1, 10_000_000)]
    public int QueueCapacity { get; set; } = 100_000;

    /// <summary>Distinct URIs per getPosts call; the AppView accepts at most 25.</summary>
    [Range(1, 25)]
    public int BatchSize { get; set; } = 25;

    /// <summary>How long a partly filled batch waits for more URIs before it is sent.</summary>
    [Range(0, 60_000)]
    public int LingerMs { get; set; } = 250;

    /// <summary>getPosts calls in flight at once, so that latency does not cap throughput; the budget does.</summary>
    [Range(1, 64)]
    public int MaxInFlight { get; set; } = 4;

    /// <summary>Fetch attempts for a post that keeps failing before it stays <c>error</c> until a forced run.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Wait before the first retry of a failed post; it doubles with every attempt, up to a day.</summary>
    [Range(1, 86_400)]
    public int RetryBackoffSeconds { get; set; } = 60;

    /// <summary>Rows read per page when the worker sweeps the database for work.</summary>
    [Range(25, 100_000)]
    public int SweepPageSize { get; set; } = 1_000;

    /// <summary>
    /// The name this process claims posts under; processes sharing a database must differ. Defaults to the host name,
    /// process id and a random suffix.
    /// </summary>
    [MaxLength(200)]
    public string ReplicaId { get; set; } = ReplicaNames.NewDefault();

    /// <summary>
    /// How long a claim on a batch of posts lasts. It is renewed every third of this while the batch's call runs, so
    /// it only runs out when its process has died; then another process takes the posts over.
    /// </summary>
    [Range(3, 3_600)]
    public int ClaimLeaseSeconds { get; set; } = 60;

    /// <summary>How often an idle worker looks for failed posts whose retry time has come.</summary>
    [Range(1, 86_400)]
    public int SweepIntervalSeconds { get; set; } = 30;

    /// <summary>
    /// Ages after a post was first served at which it is fetched again, so that its engagement is seen growing: a
    /// comma-separated list such as <c>1h,6h,24h,72h</c> (units s, m, h, d); empty turns refreshes off. Refreshes use only
    /// the budget that new URIs and due retries leave.
    /// </summary>
    public string RefreshAfter { get; set; } = "1h,6h,24h,72h";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!RefreshSchedule.TryParseAges(RefreshAfter, out _, out var invalid))
        {
            yield return new ValidationResult(
                $"PostService:Hydration:RefreshAfter must be a comma-separated list of positive ages such as 1h,6h,24h,72h " +
                $"(each {Age.Format}), or empty to turn refreshes off; '{invalid}' is not one.", [nameof(RefreshAfter)]);
        }
    }
}
