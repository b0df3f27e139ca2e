namespace PostService.Exports;

public enum ExportFormat
{
    Parquet,
    Csv,
}

public static class ExportFormats
{
    public const string ParquetContentType = "application/vnd.apache.parquet";
    public const string CsvContentType = "text/csv; charset=utf-8";

    public static string Extension(this ExportFormat format) => format == ExportFormat.Parquet ? "parquet" : "csv";

    public static string ContentType(this ExportFormat format) => format == ExportFormat.Parquet ? ParquetContentType : CsvContentType;
}
