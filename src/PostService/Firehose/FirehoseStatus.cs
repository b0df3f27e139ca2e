namespace PostService.Firehose;

/// <summary>Where the consumer stands, for <c>GET /firehose/status</c> and the CLI's display. Updated by the consumer, read by anyone.</summary>
public sealed class FirehoseStatus(TimeProvider time)
{
    // Events per second over about this long.
    private static readonly TimeSpan RateWindow = TimeSpan.FromSeconds(10);

    private readonly Lock _lock = new();
    private readonly Queue<(DateTimeOffset At, long Applied)> _samples = new();
    private long _eventsApplied, _framesSkipped;

    public string? Url { get; private set; }

    public FirehoseState State { get; private set; } = FirehoseState.Stopped;

    public long? Cursor { get; private set; }

    public DateTimeOffset? LastEventTime { get; private set; }

    public string? LastError { get; private set; }

    public long EventsApplied => Interlocked.Read(ref _eventsApplied);

    public long FramesSkipped => Interlocked.Read(ref _framesSkipped);

    /// <summary>Behind live: how long ago the last applied event happened, by the firehose's clock.</summary>
    public TimeSpan? Lag => LastEventTime is { } last ? time.GetUtcNow() - last : null;

    public double EventsPerSecond
    {
        get
        {
            lock (_lock)
            {
                Trim(time.GetUtcNow());
                if (_samples.Count < 2)
                {
                    return 0;
                }
                var (firstAt, firstApplied) = _samples.Peek();
                var elapsed = (time.GetUtcNow() - firstAt).TotalSeconds;
                return elapsed > 0 ? (EventsApplied - firstApplied) / elapsed : 0;
            }
        }
    }

    public void Enter(FirehoseState state, string url)
    {
        (State, Url) = (state, url);
    }

    public void Failed(string error) => LastError = $"{time.GetUtcNow():O} {error}";

    public void FrameSkipped() => Interlocked.Increment(ref _framesSkipped);

    public void Applied(int events, long cursor, DateTimeOffset lastEventTime)
    {
        Interlocked.Add(ref _eventsApplied, events);
        (Cursor, LastEventTime) = (cursor, lastEventTime);
        lock (_lock)
        {
            var now = time.GetUtcNow();
            _samples.Enqueue((now, EventsApplied));
            Trim(now);
        }
    }

    public void Resumed(long? cursor) => Cursor = cursor;

    private void Trim(DateTimeOffset now)
    {
        while (_samples.Count > 2 && now - _samples.Peek().At > RateWindow)
        {
            _samples.Dequeue();
        }
    }
}

public enum FirehoseState
{
    Stopped,

    /// <summary>Another process holds the lease on the URL; this one waits to take over.</summary>
    Standby,
    Connecting,
    Connected,
    Reconnecting,
}
