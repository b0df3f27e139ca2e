namespace PostService.Hydration;

/// <summary>What hydration counts, per run and since the process started.</summary>
public enum HydrationCount
{
    Attempted,
    Hydrated,
    NotFound,
    Errors,
    SkippedCached,
    ApiCalls,
    RateLimited,
    Retries,

    /// <summary>Of <see cref="Hydrated"/>, the posts the firehose's cache settled with no getPosts call.</summary>
    HydratedFromFirehose,
}

/// <summary>One set of hydration counts, updated from concurrent calls.</summary>
public sealed class HydrationCounters
{
    private readonly long[] _counts = new long[Enum.GetValues<HydrationCount>().Length];

    public long this[HydrationCount count] => Interlocked.Read(ref _counts[(int)count]);

    public void Add(HydrationCount count, long amount) => Interlocked.Add(ref _counts[(int)count], amount);

    public HydrationTotals Totals => new(this[HydrationCount.ApiCalls], this[HydrationCount.Hydrated], this[HydrationCount.NotFound],
        this[HydrationCount.Errors], this[HydrationCount.SkippedCached], this[HydrationCount.Retries],
        this[HydrationCount.HydratedFromFirehose]);
}
