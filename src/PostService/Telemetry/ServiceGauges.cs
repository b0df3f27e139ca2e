using System.Diagnostics.Metrics;
using PostService.Hydration;
using PostService.Upstream.Budget;

namespace PostService.Telemetry;

/// <summary>
/// The service's state as gauges (meter <c>PostService</c>), read from the parts that keep it when a collector asks:
/// the AppView call budget, calls in flight, 429s seen, and the backlog of posts waiting to be hydrated.
/// </summary>
public sealed class ServiceGauges
{
    public const string MeterName = "PostService";

    public ServiceGauges(IMeterFactory meterFactory, RateBudget budget, CallsInFlight calls, HydrationMetrics hydration, HydrationBacklog backlog)
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
    }
}
