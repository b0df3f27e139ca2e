using System.ComponentModel.DataAnnotations;

namespace PostService.Ingestion;

/// <summary>Limits on what one <c>POST /feed-retrievals</c> may carry. Bound from <c>PostService:Ingestion</c>.</summary>
public sealed class IngestionOptions
{
    public const string Section = "PostService:Ingestion";

    [Range(1, 100_000)]
    public int MaxRetrievalsPerBatch { get; set; } = 1_000;

    [Range(1, 100_000)]
    public int MaxPostsPerRetrieval { get; set; } = 1_000;

    /// <summary>Largest accepted request body; larger ones get 413.</summary>
    [Range(1_024, 1_073_741_824)]
    public long MaxBodyBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Days accepted bodies are kept in <c>ingest_events</c> for replay; 0 keeps none.</summary>
    [Range(0, 36_500)]
    public int EventLogDays { get; set; } = 30;
}
