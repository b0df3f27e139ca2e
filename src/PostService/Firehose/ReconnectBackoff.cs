namespace PostService.Firehose;

/// <summary>
/// How long to wait before reconnecting: a second, doubling with every failure in a row up to a maximum, and jittered
/// (half to all of it) so that many consumers of one relay do not come back at the same instant. A server's
/// <c>Retry-After</c> is a floor.
/// </summary>
public static class ReconnectBackoff
{
    public static TimeSpan Delay(int failuresInARow, TimeSpan max, double jitter, TimeSpan? retryAfter = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(jitter, 0.0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(jitter, 1.0);
        var exponential = TimeSpan.FromSeconds(Math.Pow(2, Math.Clamp(failuresInARow - 1, 0, 30)));
        var capped = exponential < max ? exponential : max;
        var delay = capped * (0.5 + jitter / 2);
        return retryAfter is { } floor && floor > delay ? floor : delay;
    }
}
