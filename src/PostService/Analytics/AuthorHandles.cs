using Dapper;
using PostService.Hydration;
using PostService.Storage;
using PostService.Upstream.AppView;

namespace PostService.Analytics;

/// <summary>An author's handle and the fetches that first and last saw it.</summary>
public sealed class AuthorHandle
{
    public required string Handle { get; init; }
    public required string FirstSeenAt { get; init; }
    public required string LastSeenAt { get; init; }
}

/// <summary>
/// <c>author_handles</c>: each fetch records the handle the AppView gave the post's author; a new handle starts a row,
/// one seen again moves its <c>last_seen_at</c>. Fetches may finish out of order, so both ends only widen.
/// </summary>
public sealed class AuthorHandles(IDbConnectionFactory connections) : IHydratedPostsHandler
{
    private const string RecordSeen = """
        INSERT INTO author_handles (did, handle, first_seen_at, last_seen_at) VALUES (@Did, @Handle, to_ts(@SeenAt), to_ts(@SeenAt))
        ON CONFLICT (did, handle) DO UPDATE SET
            first_seen_at = CASE WHEN excluded.first_seen_at < author_handles.first_seen_at THEN excluded.first_seen_at ELSE author_handles.first_seen_at END,
            last_seen_at = CASE WHEN excluded.last_seen_at > author_handles.last_seen_at THEN excluded.last_seen_at ELSE author_handles.last_seen_at END
        """;

    private const string SelectHistory = """
        SELECT handle, ts_text(first_seen_at) AS first_seen_at, ts_text(last_seen_at) AS last_seen_at
        FROM author_handles WHERE did = @Did ORDER BY last_seen_at, handle
        """;

    public Task HandleAsync(IReadOnlyList<HydratedPost> posts, DateTimeOffset fetchedAt, CancellationToken cancellationToken)
    {
        var seenAt = DbTime.ToText(fetchedAt);
        // One row per author and handle, in key order, so that concurrent writers on PostgreSQL cannot deadlock.
        var rows = posts.Select(post => (Did: post.AuthorDid, Handle: post.AuthorHandle)).Distinct()
            .OrderBy(row => row.Did, StringComparer.Ordinal).ThenBy(row => row.Handle, StringComparer.Ordinal)
            .Select(row => new { row.Did, row.Handle, SeenAt = seenAt }).ToList();
        return connections.WriteAsync((connection, transaction) => connection.ExecuteAsync(RecordSeen, rows, transaction), cancellationToken);
    }

    /// <summary>The handles <paramref name="did"/> was seen with, the latest last.</summary>
    public Task<IReadOnlyList<AuthorHandle>> HistoryAsync(string did, CancellationToken cancellationToken) =>
        connections.QueryListAsync<AuthorHandle>(SelectHistory, new { Did = did }, cancellationToken);
}
