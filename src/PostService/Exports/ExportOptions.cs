using System.ComponentModel.DataAnnotations;

namespace PostService.Exports;

/// <summary>How exports are written. Bound from <c>PostService:Exports</c>.</summary>
public sealed class ExportOptions
{
    public const string Section = "PostService:Exports";

    /// <summary>
    /// Rows per Parquet row group: what the writer holds in memory at once, and the unit DuckDB and pyarrow read in
    /// parallel (DuckDB's own files hold 122,880). 50,000 exposures are some tens of megabytes in memory and about
    /// 1.5 MB in the file; at 100,000 the service's peak memory was a third higher and the export no faster.
    /// </summary>
    [Range(1, 10_000_000)]
    public int RowGroupSize { get; set; } = 50_000;
}
