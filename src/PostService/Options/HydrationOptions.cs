using System.ComponentModel.DataAnnotations;

namespace PostService.Options;

/// <summary>How posts are hydrated from the AppView. Bound from <c>PostService:Hydration</c>.</summary>
public sealed class HydrationOptions
{
    public const string Section = "PostService:Hydration";

    /// <summary>Run the background worker. Off, URIs still queue up in the database as <c>pending</c>.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How many URIs the in-memory hint queue holds; beyond it, URIs wait for the database sweep.</summary>
    [Range(1, 10_000_000)]
    public int QueueCapacity { get; set; } = 100_000;
}
