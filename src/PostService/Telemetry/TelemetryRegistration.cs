using Microsoft.Extensions.Options;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using PostService.Hydration;
using PostService.Security;
using PostService.Storage;

namespace PostService.Telemetry;

/// <summary>
/// OpenTelemetry: the service's meters with ASP.NET Core's, Kestrel's, HttpClient's, the runtime's and Npgsql's; a trace
/// per request with spans for database writes and AppView calls. Prometheus scrapes <c>/metrics</c>; with
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, metrics and traces also go to that collector.
/// </summary>
public static class TelemetryRegistration
{
    public const string MetricsPath = "/metrics";

    public static WebApplicationBuilder AddTelemetry(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<HydrationBacklog>();
        builder.Services.AddHostedService(services => services.GetRequiredService<HydrationBacklog>());
        builder.Services.AddSingleton<ServiceGauges>();

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("postservice"))
            .WithMetrics(metrics => metrics
                .AddMeter(HydrationMetrics.MeterName, ServiceGauges.MeterName, "Npgsql", "Microsoft.AspNetCore.Server.Kestrel")
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddPrometheusExporter())
            .WithTracing(tracing => tracing
                .AddSource(StorageActivity.SourceName)
                .AddAspNetCoreInstrumentation(options => options.Filter = http => http.Request.Path != MetricsPath)
                .AddHttpClientInstrumentation()
                .AddNpgsql());
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            telemetry.UseOtlpExporter();
        }
        return builder;
    }

    /// <summary>
    /// <c>GET /metrics</c> in Prometheus' text format, unless turned off; behind the API key when reads need one.
    /// The gauges are created here, as the first collection would otherwise miss them.
    /// </summary>
    public static WebApplication MapTelemetry(this WebApplication app)
    {
        app.Services.GetRequiredService<ServiceGauges>();
        if (app.Services.GetRequiredService<IOptions<TelemetryOptions>>().Value.PrometheusEnabled)
        {
            app.MapPrometheusScrapingEndpoint(MetricsPath, meterProvider: null, configureBranchedPipeline: branch => branch.Use(async (http, next) =>
            {
                if (ApiAccessConventions.RefusalFor(http, ApiAccess.Read) is { } refusal)
                {
                    await refusal.ExecuteAsync(http);
                    return;
                }
                await next(http);
            }), optionsName: null).WithTags("Telemetry").WithName("Metrics").WithSummary("Metrics in Prometheus' text format");
        }
        return app;
    }
}
