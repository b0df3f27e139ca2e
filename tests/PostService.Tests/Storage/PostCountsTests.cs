using Dapper;
using Microsoft.Extensions.DependencyInjection;
using PostService.Hydration;
using PostService.Storage;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Storage;

public abstract class PostCountsTests(DatabaseProvider provider) : IDisposable
{
    public sealed class OnSqlite() : PostCountsTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgres() : PostCountsTests(DatabaseProvider.Postgres), IRunsOnPostgres;

    private readonly PostServiceFactory _service = new(provider: provider);

    public void Dispose() => _service.Dispose();

    [DatabaseFact]
    public async Task TriggerKeptCountsEqualARecountAfterInsertsUpdatesAndDeletes()
    {
        (await _service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPosts(30).WithPost("bad-uri")))).EnsureSuccessStatusCode();
        using var db = _service.OpenDatabase();
        // Subsets picked by the URIs' last digit (p0 ... p29).
        db.Execute("""
            UPDATE posts SET hydration_status = 'ok', author_did = 'did:plc:a', last_hydrated_at = to_ts('2026-11-20T10:00:00.000Z')
            WHERE substr(post_uri, length(post_uri)) IN ('0', '3', '6', '9');
            UPDATE posts SET hydration_status = 'not_found', last_hydrated_at = to_ts('2026-11-19T10:00:00.000Z')
            WHERE substr(post_uri, length(post_uri)) IN ('1', '4', '7') AND hydration_status = 'pending';
            UPDATE posts SET last_hydrated_at = to_ts('2026-11-21T10:00:00.000Z') WHERE substr(post_uri, length(post_uri)) IN ('0', '6');
            DELETE FROM posts WHERE substr(post_uri, length(post_uri)) IN ('5', '0');
            """);
        await _service.Services.GetRequiredService<CoverageQueries>().FoldCountsAsync(CancellationToken.None);

        var kept = db.Query<(string Status, string Day, long Posts, long WithAuthor)>(
            "SELECT hydration_status, day, posts, with_author FROM post_counts WHERE posts <> 0 ORDER BY 1, 2").ToList();
        // The recount has one row per (status, day); "invalid" proves the bad URI was counted too.
        var recount = db.Query<(string Status, string Day, long Posts, long WithAuthor)>("""
            SELECT hydration_status, coalesce(substr(ts_text(last_hydrated_at), 1, 10), ''), count(*), count(author_did)
            FROM posts GROUP BY 1, 2 ORDER BY 1, 2
            """).ToList();

        Assert.Equal(recount, kept);
        Assert.Contains(kept, row => row.Status == "invalid");
    }
}
