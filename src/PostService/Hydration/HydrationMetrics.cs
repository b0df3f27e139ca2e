using System.Diagnostics.Metrics;

namespace PostService.Hydration;

/// <summary>Counters and histograms for dotnet-counters and OpenTelemetry (meter <c>PostService.Hydration</c>).</summary>
public sealed class HydrationMetrics
{
    public const string MeterName = "PostService.Hydration";

    private readonly Counter<long> _calls;
    private readonly Counter<long> _outcomes;
    private readonly Histogram<double> _callDuration;

    public HydrationMetrics(IMeterFactory meterFactory, HydrationQueue queue)
    {
        var meter = meterFactory.Create(MeterName);
        _calls = meter.CreateCounter<long>("postservice.hydration.calls", description: "getPosts calls by result");
        _outcomes = meter.CreateCounter<long>("postservice.hydration.posts", description: "Posts hydrated, by resulting status");
        _callDuration = meter.CreateHistogram<double>("postservice.hydration.call.duration", unit: "ms", description: "getPosts call latency, retries included");
        meter.CreateObservableGauge("postservice.hydration.queue.depth", () => queue.Depth, description: "URIs waiting in the hint queue");
    }

    public void RecordCall(string result, TimeSpan duration)
    {
        _calls.Add(1, new KeyValuePair<string, object?>("result", result));
        _callDuration.Record(duration.TotalMilliseconds, new KeyValuePair<string, object?>("result", result));
    }

    public void RecordOutcome(string status, int count)
    {
        if (count > 0)
        {
            _outcomes.Add(count, new KeyValuePair<string, object?>("status", status));
        }
    }
}
