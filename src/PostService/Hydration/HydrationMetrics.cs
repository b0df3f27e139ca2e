using System.Diagnostics.Metrics;
using PostService.Posts;

namespace PostService.Hydration;

/// <summary>
/// The one place hydration counts: each event adds to its run's counters (the run row), to the totals since the process
/// started (<c>/hydration/stats</c>), and so to the meter <c>PostService.Hydration</c> (dotnet-counters, OpenTelemetry),
/// whose post counts observe those totals.
/// </summary>
public sealed class HydrationMetrics
{
    public const string MeterName = "PostService.Hydration";

    private readonly Counter<long> _calls;
    private readonly Histogram<double> _callDuration;
    private string? _lastError;

    public HydrationMetrics(IMeterFactory meterFactory, HydrationQueue queue)
    {
        var meter = meterFactory.Create(MeterName);
        _calls = meter.CreateCounter<long>("postservice.hydration.calls", description: "getPosts calls by result");
        meter.CreateObservableCounter("postservice.hydration.posts", ObservePosts, description: "Posts hydrated, by resulting status");
        _callDuration = meter.CreateHistogram<double>("postservice.hydration.call.duration", unit: "ms", description: "getPosts call latency, retries included");
        meter.CreateObservableGauge("postservice.hydration.queue.depth", () => queue.Depth, description: "URIs waiting in the hint queue");
    }

    public HydrationCounters SinceStart { get; } = new();

    /// <summary>The last failure the worker saw, with its time; null until one happens.</summary>
    public string? LastError => Volatile.Read(ref _lastError);

    public void Count(HydrationRun run, HydrationCount count, long amount)
    {
        run.Counters.Add(count, amount);
        SinceStart.Add(count, amount);
    }

    public void RecordCall(string result, TimeSpan duration)
    {
        _calls.Add(1, new KeyValuePair<string, object?>("result", result));
        _callDuration.Record(duration.TotalMilliseconds, new KeyValuePair<string, object?>("result", result));
    }

    public void RecordError(DateTimeOffset at, string error) => Volatile.Write(ref _lastError, $"{at:O} {error}");

    private IEnumerable<Measurement<long>> ObservePosts() =>
    [
        Measure(HydrationCount.Hydrated, HydrationStatus.Ok),
        Measure(HydrationCount.NotFound, HydrationStatus.NotFound),
        Measure(HydrationCount.Errors, HydrationStatus.Error),
    ];

    private Measurement<long> Measure(HydrationCount count, string status) =>
        new(SinceStart[count], new KeyValuePair<string, object?>("status", status));
}
