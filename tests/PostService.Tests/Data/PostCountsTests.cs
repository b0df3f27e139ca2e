using Dapper;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Data;

public sealed class PostCountsTests : IDisposable
{
    private readonly PostServiceFactory _service = new();

    public void Dispose() => _service.Dispose();

    [Fact]
    public async Task TriggerKeptCountsEqualARecountAfterInsertsUpdatesAndDeletes()
    {
        (await _service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPosts(30).WithPost("bad-uri")))).EnsureSuccessStatusCode();
        using var db = _service.OpenDatabase();
        db.Execute("""
            UPDATE posts SET hydration_status = 'ok', author_did = 'did:plc:a', last_hydrated_at = '2026-11-20T10:00:00.000Z'
            WHERE rowid % 3 = 0;
            UPDATE posts SET hydration_status = 'not_found', last_hydrated_at = '2026-11-19T10:00:00.000Z' WHERE rowid % 3 = 1 AND hydration_status = 'pending';
            UPDATE posts SET last_hydrated_at = '2026-11-21T10:00:00.000Z' WHERE rowid % 6 = 0;
            DELETE FROM posts WHERE rowid % 5 = 0;
            """);

        var kept = db.Query<(string Status, string Day, long Posts, long WithAuthor)>(
            "SELECT hydration_status, day, posts, with_author FROM post_counts WHERE posts <> 0 ORDER BY 1, 2").ToList();
        var recount = db.Query<(string Status, string Day, long Posts, long WithAuthor)>("""
            SELECT hydration_status, coalesce(substr(last_hydrated_at, 1, 10), ''), count(*), count(author_did)
            FROM posts GROUP BY 1, 2 ORDER BY 1, 2
            """).ToList();

        Assert.Equal(recount, kept);
        Assert.Contains(kept, row => row.Status == "invalid");
    }
}
