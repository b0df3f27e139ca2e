using System.Diagnostics;

namespace PostService.Storage;

/// <summary>Trace spans for the stores' write transactions (PostgreSQL's statements get their own from Npgsql, too).</summary>
public static class StorageActivity
{
    public const string SourceName = "PostService.Storage";

    private static readonly ActivitySource Source = new(SourceName);

    /// <summary>A span for one write transaction, its wait for the writer included; null when nobody listens.</summary>
    public static Activity? StartWrite(SqlDialect dialect) =>
        Source.StartActivity("db.write")?.SetTag("db.system.name", dialect.IsPostgres ? "postgresql" : "sqlite");
}
