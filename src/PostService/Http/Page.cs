namespace PostService.Http;

/// <summary>A page of results; pass <see cref="NextCursor"/> back as <c>cursor</c> for the next page, until it is null.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);
