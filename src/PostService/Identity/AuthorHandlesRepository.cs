using System.Data.Common;
using Dapper;
using PostService.Storage;

namespace PostService.Identity;

/// <summary>An author's handle and the first and last time it was seen.</summary>
public sealed class AuthorHandle
{
    public required string Handle { get; init; }
    public required string FirstSeenAt { get; init; }
    public required string LastSeenAt { get; init; }
}

/// <summary>A handle seen for an author DID at a time.</summary>
public sealed record HandleSighting(string Did, string Handle, string SeenAt);

/// <summary>
/// <c>author_handles</c>: every handle an author of a served post was seen with (at a fetch, or in a firehose
/// <c>#identity</c> event); a new handle starts a row, one seen again moves its <c>last_seen_at</c>. Sightings may arrive
/// out of order, so both ends only widen. DIDs that authored no stored post are not kept.
/// </summary>
public sealed class AuthorHandlesRepository(IDbConnectionFactory connections)
{
    private const string RecordSeen = """
        INSERT INTO author_handles (did, handle, first_seen_at, last_seen_at)
        SELECT @Did, @Handle, to_ts(@SeenAt), to_ts(@SeenAt) WHERE EXISTS (SELECT 1 FROM posts WHERE author_did = @Did)
        ON CONFLICT (did, handle) DO UPDATE SET
            first_seen_at = CASE WHEN excluded.first_seen_at < author_handles.first_seen_at THEN excluded.first_seen_at ELSE author_handles.first_seen_at END,
            last_seen_at = CASE WHEN excluded.last_seen_at > author_handles.last_seen_at THEN excluded.last_seen_at ELSE author_handles.last_seen_at END
        """;

    private const string SelectHistory = """
        SELECT handle, ts_text(first_seen_at) AS first_seen_at, ts_text(last_seen_at) AS last_seen_at
        FROM author_handles WHERE did = @Did ORDER BY last_seen_at, handle
        """;

    /// <summary>Records <paramref name="sightings"/> in the caller's transaction.</summary>
    public static Task RecordAsync(DbConnection connection, DbTransaction transaction, IEnumerable<HandleSighting> sightings, CancellationToken cancellationToken) =>
        // One row per author and handle, in key order, so that concurrent writers on PostgreSQL cannot deadlock.
        connection.ExecuteAsync(new CommandDefinition(RecordSeen,
            sightings.DistinctBy(sighting => (sighting.Did, sighting.Handle))
                .OrderBy(sighting => sighting.Did, StringComparer.Ordinal).ThenBy(sighting => sighting.Handle, StringComparer.Ordinal).ToList(),
            transaction, cancellationToken: cancellationToken));

    /// <summary>The handles <paramref name="did"/> was seen with, the latest last.</summary>
    public Task<IReadOnlyList<AuthorHandle>> OfAsync(string did, CancellationToken cancellationToken) =>
        connections.QueryListAsync<AuthorHandle>(SelectHistory, new { Did = did }, cancellationToken);
}
