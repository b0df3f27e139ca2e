using System.ComponentModel.DataAnnotations;

namespace PostService.Firehose;

/// <summary>The <c>com.atproto.sync.subscribeRepos</c> consumer. Bound from <c>PostService:Firehose</c>.</summary>
public sealed class FirehoseOptions
{
    public const string Section = "PostService:Firehose";

    /// <summary>Run the consumer inside the service. The CLI's <c>firehose</c> verb runs it whatever this says.</summary>
    public bool Enabled { get; set; }

    /// <summary>A relay or PDS; <c>/xrpc/com.atproto.sync.subscribeRepos</c> is added when the URL has no path.</summary>
    [Required]
    public string Url { get; set; } = "wss://bsky.network";

    /// <summary>How long a post seen on the firehose stays in <c>firehose_posts</c>.</summary>
    [Range(1, 24 * 365)]
    public int RetentionHours { get; set; } = 168;

    /// <summary>A frame larger than this is logged and skipped.</summary>
    [Range(1_024, 256 * 1024 * 1024)]
    public int MaxFrameBytes { get; set; } = 5 * 1024 * 1024;

    /// <summary>Decoded events waiting for the writer; when full, the socket reader waits (so a slow disk slows the reader, not memory).</summary>
    [Range(1, 1_000_000)]
    public int ChannelCapacity { get; set; } = 10_000;

    /// <summary>Most events applied in one transaction.</summary>
    [Range(1, 100_000)]
    public int MaxBatchEvents { get; set; } = 2_000;

    /// <summary>Longest wait before events read are applied and the cursor saved; at most a second.</summary>
    [Range(1, 1_000)]
    public int FlushIntervalMs { get; set; } = 1_000;

    /// <summary>How long the lease on a firehose URL lasts without renewal; another replica takes over after it.</summary>
    [Range(3, 3_600)]
    public int LeaseSeconds { get; set; } = 30;

    /// <summary>The name this process holds the lease under; processes sharing a database must differ.</summary>
    [MaxLength(200)]
    public string ReplicaId { get; set; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>How often posts older than the retention window are deleted.</summary>
    [Range(1, 86_400)]
    public int PruneIntervalSeconds { get; set; } = 300;

    /// <summary>Longest wait between reconnection attempts (it doubles from a second, with jitter).</summary>
    [Range(1, 3_600)]
    public int MaxReconnectDelaySeconds { get; set; } = 60;

    /// <summary>
    /// Behind live by less than this, the consumer counts as live (<c>--stop-when-live</c>); so does a connection with
    /// nothing to read for two seconds. 0: only the latter.
    /// </summary>
    [Range(0, 3_600)]
    public int LiveLagSeconds { get; set; } = 10;

    /// <summary>DID documents asked for at once when cached posts' authors have no known handle.</summary>
    [Range(1, 64)]
    public int HandleResolutionParallelism { get; set; } = 4;
}
