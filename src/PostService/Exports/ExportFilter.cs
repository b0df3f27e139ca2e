using PostService.Storage;

namespace PostService.Exports;

/// <summary>
/// Which feed requests an export covers: by requester, algorithm and serving time (<c>since</c> inclusive,
/// <c>until</c> exclusive). Null means any. Times are normalized ISO-8601 UTC text, as stored.
/// </summary>
public sealed record ExportFilter(string? RequesterDid, string? Algo, string? Since, string? Until)
{
    public static readonly ExportFilter None = new(null, null, null, null);

    /// <summary>The filter for <paramref name="dataset"/>, or null with <paramref name="error"/> saying which value is not a time or does not apply.</summary>
    public static ExportFilter? TryCreate(ExportDataset dataset, string? requesterDid, string? algo, string? since, string? until, out string? error)
    {
        error = null;
        if (!dataset.TakesAlgo && !string.IsNullOrEmpty(algo))
        {
            error = $"algo does not apply to {dataset.Name}.";
            return null;
        }
        if (!DbTime.TryNormalize(since, out var sinceText) || !DbTime.TryNormalize(until, out var untilText))
        {
            error = "since and until must be ISO-8601 dates or date-times.";
            return null;
        }
        return new ExportFilter(NullIfEmpty(requesterDid), NullIfEmpty(algo), sinceText, untilText);
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
