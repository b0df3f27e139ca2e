namespace PostService.Hosting;

/// <summary>How the HTTP surface is exposed. Bound from <c>PostService:Api</c>.</summary>
public sealed class ApiOptions
{
    public const string Section = "PostService:Api";

    /// <summary>Serve <c>/openapi/v1.json</c> and Swagger UI at <c>/swagger</c>; on in every environment unless turned off.</summary>
    public bool EnableSwagger { get; set; } = true;

    /// <summary>
    /// Write logs as one JSON object per line (for log shippers) instead of plain text: a shorthand for the standard
    /// <c>Logging__Console__FormatterName=json</c>.
    /// </summary>
    public bool JsonLogs { get; set; }
}
