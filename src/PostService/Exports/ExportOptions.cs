using System.ComponentModel.DataAnnotations;

namespace PostService.Exports;

/// <summary>How exports are written. Bound from <c>PostService:Exports</c>.</summary>
public sealed class ExportOptions
{
    public const string Section = "PostService:Exports";

    /// <summary>
    /// Rows per Parquet row group: what the writer holds in memory at once, and the unit DuckDB and pandas read in
    /// parallel. DuckDB's own files use 122,880; 100,000 rows of this service's datasets are some tens of megabytes.
    /// </summary>
    [Range(1, 10_000_000)]
    public int RowGroupSize { get; set; } = 100_000;
}
