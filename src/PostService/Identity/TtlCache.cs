using System.Collections.Concurrent;

namespace PostService.Identity;

/// <summary>Answers kept until they expire, each with its own time to live. Bounded: when full, it starts over.</summary>
public sealed class TtlCache<TValue>(TimeProvider time, int capacity = 100_000)
{
    private readonly ConcurrentDictionary<string, (TValue Value, DateTimeOffset Expires)> _entries = new(StringComparer.Ordinal);

    public bool TryGet(string key, out TValue value)
    {
        if (_entries.TryGetValue(key, out var entry) && time.GetUtcNow() < entry.Expires)
        {
            value = entry.Value;
            return true;
        }
        value = default!;
        return false;
    }

    public void Set(string key, TValue value, TimeSpan timeToLive)
    {
        if (timeToLive <= TimeSpan.Zero)
        {
            return;
        }
        if (_entries.Count >= capacity)
        {
            _entries.Clear();
        }
        _entries[key] = (value, time.GetUtcNow() + timeToLive);
    }
}
