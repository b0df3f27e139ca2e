namespace PostService.Backfill;

public static class BackfillStatus
{
    public const string Enqueued = "enqueued";
    public const string InProgress = "in_progress";
    public const string Complete = "complete";
    public const string Failed = "failed";

    public static readonly IReadOnlyList<string> All = [Enqueued, InProgress, Complete, Failed];
}

/// <summary>One participant's repository backfill (<c>repo_backfill_jobs</c>). Properties: SQLite types NULL times as BLOB.</summary>
public sealed record BackfillJob
{
    public required string Did { get; init; }

    /// <summary><c>enqueued</c>, <c>in_progress</c>, <c>complete</c> or <c>failed</c>.</summary>
    public required string Status { get; init; }
    public string? Since { get; init; }
    public string? Until { get; init; }

    /// <summary>The record types kept, comma-separated; null for all.</summary>
    public string? Collections { get; init; }

    /// <summary>The repository revision read.</summary>
    public string? Rev { get; init; }
    public long Records { get; init; }

    /// <summary>Records kept without a valid <c>createdAt</c> (stored with <c>created_at</c> NULL).</summary>
    public long Undated { get; init; }
    public long Bytes { get; init; }
    public string? Error { get; init; }
    public string? EnqueuedAt { get; init; }
    public string? StartedAt { get; init; }
    public string? FinishedAt { get; init; }

    /// <summary>Whether the job keeps <paramref name="row"/>: one of its record types, inside its window.</summary>
    public bool Keeps(RepoRecordRow row) =>
        (Collections is null || Collections.Split(',').Contains(row.RecordType, StringComparer.Ordinal)) && RepoRecordClassifier.InWindow(row, Since, Until);
}

/// <summary>What to backfill: DIDs, the <c>createdAt</c> window <c>[since, until)</c>, the record types (null: all).</summary>
public sealed record BackfillRequest(IReadOnlyList<string> Dids, DateTimeOffset? Since, DateTimeOffset? Until, IReadOnlyList<string>? Collections, bool Refresh);
