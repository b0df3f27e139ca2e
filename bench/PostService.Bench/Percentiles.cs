namespace PostService.Bench;

/// <summary>Nearest-rank percentiles of a set of timings.</summary>
public sealed class Percentiles
{
    private readonly List<double> _sorted;

    public Percentiles(IEnumerable<double> values)
    {
        _sorted = values.Order().ToList();
        if (_sorted.Count == 0)
        {
            throw new InvalidOperationException("No timings were recorded.");
        }
    }

    public int Count => _sorted.Count;

    public double Max => _sorted[^1];

    /// <summary>The value at quantile <paramref name="q"/> (0.5 for the median, 0.95, 0.99).</summary>
    public double At(double q) => _sorted[(int)Math.Clamp(Math.Ceiling(q * _sorted.Count) - 1, 0, _sorted.Count - 1)];
}
