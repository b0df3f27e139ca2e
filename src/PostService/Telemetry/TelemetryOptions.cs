using System.ComponentModel.DataAnnotations;

namespace PostService.Telemetry;

/// <summary>
/// Metrics and traces. Bound from <c>PostService:Telemetry</c>; OTLP export follows the standard
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (and the other <c>OTEL_*</c> variables).
/// </summary>
public sealed class TelemetryOptions
{
    public const string Section = "PostService:Telemetry";

    /// <summary>Serve Prometheus' text format at <c>/metrics</c> (behind the API key when reads need one).</summary>
    public bool PrometheusEnabled { get; set; } = true;

    /// <summary>How often the hydration backlog (posts still pending) is counted for its gauge.</summary>
    [Range(1, 3_600)]
    public int BacklogSampleSeconds { get; set; } = 15;
}
