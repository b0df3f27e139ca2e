using System.Diagnostics.Metrics;
using PostService.Firehose;
using PostService.Hydration;
using PostService.Upstream.Budget;

namespace PostService.Telemetry;

/// <summary>
/// The service's state as gauges (meter <c>PostService</c>), read from the parts that keep it when a collector asks:
/// the AppView call budget, calls in flight, 429s seen, the backlog of posts waiting to be hydrated, and how far the
/// firehose consumer is behind live.
/// </summary>
public sealed class ServiceGauges
{
    public const string MeterName = "PostService";

    public ServiceGauges(IMeterFactory meterFactory, RateBudget budget, CallsInFlight calls, HydrationMetrics hydration, HydrationBacklog backlog,
        FirehoseStatus firehose)
    {
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableGauge("postservice.appview.budget.used", () => budget.UsedInWindow, unit: "{call}",
            description: "AppView calls made within the current budget window");
        meter.CreateObservableGauge("postservice.appview.budget.limit", () => budget.Limit, unit: "{call}",
            description: "AppView calls the budget allows per window");
        meter.CreateObservableGauge("postservice.appview.calls.in_flight", () => calls.Count, unit: "{call}",
            description: "getPosts calls sent and not yet answered");
        meter.CreateObservableCounter("postservice.appview.rate_limited", () => hydration.SinceStart[HydrationCount.RateLimited], unit: "{response}",
            description: "429 answers from the AppView since the service started");
        meter.CreateObservableGauge("postservice.hydration.backlog", () => backlog.Observe(), unit: "{post}",
            description: "Posts waiting to be hydrated (status pending), as last counted");
        // No series before the consumer has applied an event: a lag of 0 would claim it is live.
        meter.CreateObservableGauge("postservice.firehose.lag",
            () => firehose.Lag is { } lag ? [new Measurement<double>(lag.TotalSeconds)] : Array.Empty<Measurement<double>>(), unit: "s",
            description: "How long ago the last event the firehose consumer applied happened (seconds behind live)");
        meter.CreateObservableCounter("postservice.firehose.events.applied", () => firehose.EventsApplied, unit: "{event}",
            description: "Firehose events applied since the service started");
    }
}
