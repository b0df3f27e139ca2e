using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using PostService.Storage;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Backfill;

/// <summary>
/// Backfilling a participant's repository from the real PDS: what is stored must be exactly the records the PDS lists
/// (listRecords, independent of the CAR reader) of the kinds asked for, created inside the window.
/// </summary>
public abstract class RepoBackfillTests(DatabaseProvider provider)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly DateTimeOffset Since = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly string[] Collections = ["app.bsky.feed.post", "app.bsky.feed.like", "app.bsky.feed.repost", "app.bsky.graph.follow"];

    private static RealAppViewNetwork Network => RealAppViewNetwork.Required;

    /// <summary>A participant with posts in and out of the window, a reply, a quote, a like, a repost and a follow.</summary>
    internal static async Task<(RealAppViewNetwork.Account Participant, string Author, string InWindowPost, string OldPost)> ParticipantAsync(string prefix)
    {
        var network = Network;
        var participant = await network.CreateAccountAsync(prefix);
        var author = await network.CreateAccountAsync(prefix + "a");
        var (target, _) = await network.CreatePostAsync(author.Did, "PostService backfill: a post the participant engages with");
        var (inWindow, _) = await network.CreateRecordAsync("/post", new { by = participant.Did, text = "in the window", langs = new[] { "en" }, createdAt = "2025-03-01T10:00:00.000Z" });
        var (old, _) = await network.CreateRecordAsync("/post", new { by = participant.Did, text = "before the window", createdAt = "2024-06-01T10:00:00.000Z" });
        await network.CreateRecordAsync("/post", new { by = participant.Did, text = "a reply", replyTo = target });
        await network.CreateRecordAsync("/post", new { by = participant.Did, text = "a quote", quote = target });
        await network.CreateRecordAsync("/like", new { by = participant.Did, uri = target });
        await network.CreateRecordAsync("/repost", new { by = participant.Did, uri = target });
        await network.CreateRecordAsync("/follow", new { by = participant.Did, subject = author.Did });
        return (participant, target, inWindow, old);
    }

    /// <summary>What the PDS holds inside [since, ∞): URI to CID.</summary>
    internal static async Task<Dictionary<string, string>> ExpectedAsync(string did, DateTimeOffset since)
    {
        var expected = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var collection in Collections)
        {
            foreach (var (uri, cid, value) in await Network.ListRecordsAsync(did, collection))
            {
                if (!value.TryGetProperty("createdAt", out var created) || !DbTime.TryParse(created.GetString(), out var at) || at >= since)
                {
                    expected[uri] = cid;
                }
            }
        }
        return expected;
    }

    [RealNetworkDatabaseFact]
    public async Task AParticipantsRepositoryIsBackfilledToExactlyTheRecordsItsPdsHoldsInsideTheWindow()
    {
        var network = Network;
        var (participant, target, inWindow, old) = await ParticipantAsync("bf");
        using var service = new PostServiceFactory(new Dictionary<string, string?> { ["PostService:Identity:PlcUrl"] = network.PlcUrl }, provider: provider);
        // A served post of the participant's not yet hydrated: the backfill gives it the record's metadata.
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPost(inWindow, 0)))).EnsureSuccessStatusCode();
        var client = service.CreateClient();

        var accepted = await client.PostAsJsonAsync("/backfill/repos", new { dids = new[] { participant.Did }, since = Since });
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var job = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("jobs")[0];
        Assert.Equal(participant.Did, job.GetProperty("did").GetString());
        await Eventually.TrueAsync(() => JobStatus(client, participant.Did) == "complete", "the backfill completes", Timeout);

        var expected = await ExpectedAsync(participant.Did, Since);
        Assert.Equal(6, expected.Count);
        using var db = service.OpenDatabase();
        var stored = db.Query<(string Uri, string Cid)>("SELECT uri, cid FROM repo_records WHERE did = @did", new { did = participant.Did })
            .ToDictionary(row => row.Uri, row => row.Cid, StringComparer.Ordinal);
        Assert.Equal(expected.OrderBy(pair => pair.Key), stored.OrderBy(pair => pair.Key));
        Assert.DoesNotContain(old, stored.Keys);

        var types = db.Query<(string Type, string? SubjectUri, string? SubjectDid)>(
            "SELECT record_type, subject_uri, subject_did FROM repo_records WHERE did = @did ORDER BY record_type", new { did = participant.Did }).ToList();
        Assert.Equal(["follow", "like", "post", "quote", "reply", "repost"], types.Select(row => row.Type));
        Assert.All(types.Where(row => row.Type is "like" or "repost" or "quote" or "reply"), row => Assert.Equal(target, row.SubjectUri));
        Assert.NotNull(types.Single(row => row.Type == "follow").SubjectDid);

        var post = (IDictionary<string, object?>)db.QuerySingle("SELECT hydration_status, metadata_source, text, author_did FROM posts WHERE post_uri = @inWindow", new { inWindow });
        Assert.Equal("pending", post["hydration_status"]);
        Assert.Equal("repo", post["metadata_source"]);
        Assert.Equal("in the window", post["text"]);
        Assert.Equal(participant.Did, post["author_did"]);

        var finished = await (await client.GetAsync("/backfill/repos/" + participant.Did)).AssertOkJsonAsync();
        Assert.Equal(6, finished.GetProperty("records").GetInt64());
        Assert.False(string.IsNullOrEmpty(finished.GetProperty("rev").GetString()));
    }

    [RealNetworkDatabaseFact]
    public async Task AServedPostItsAuthorDeletedIsTombstonedByTheBackfillOfTheirRepository()
    {
        var network = Network;
        var author = await network.CreateAccountAsync("bfd");
        var (deleted, _) = await network.CreatePostAsync(author.Did, "served, hydrated, then deleted");
        var (kept, _) = await network.CreatePostAsync(author.Did, "served and still there");
        var (neverFetched, _) = await network.CreatePostAsync(author.Did, "served, deleted before any fetch");
        using var service = HydratingService.Start(network.AppViewUrl, new Dictionary<string, string?>
        {
            ["PostService:AppView:AttemptTimeoutSeconds"] = "15",
            ["PostService:Identity:PlcUrl"] = network.PlcUrl,
        }, provider: provider);
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(RetrievalBuilder.Serving([deleted, kept])))).EnsureSuccessStatusCode();
        await Eventually.TrueAsync(() => service.Count("SELECT count(*) FROM posts WHERE hydration_status = 'ok'") == 2, "the posts are hydrated", Timeout);
        await network.DeletePostAsync(neverFetched);
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithId(2).WithPost(neverFetched, 0)))).EnsureSuccessStatusCode();
        await Eventually.TrueAsync(() => service.Count("SELECT count(*) FROM posts WHERE hydration_status = 'not_found'") == 1, "the third is found missing", Timeout);
        // Deleted after its fetch and not fetched again: only the repository tells.
        await network.DeletePostAsync(deleted);
        var client = service.CreateClient();

        (await client.PostAsJsonAsync("/backfill/repos", new { dids = new[] { author.Did } })).EnsureSuccessStatusCode();
        await Eventually.TrueAsync(() => JobStatus(client, author.Did) == "complete", "the backfill completes", Timeout);

        var tombstone = await client.GetOkJsonAsync("/posts/" + Uri.EscapeDataString(deleted));
        Assert.Equal("ok", tombstone.GetProperty("hydration_status").GetString());
        Assert.Equal("served, hydrated, then deleted", tombstone.GetProperty("text").GetString());
        Assert.Equal("deleted", tombstone.GetProperty("not_found_reason").GetString());
        Assert.False(string.IsNullOrEmpty(tombstone.GetProperty("deleted_at").GetString()));
        var live = await client.GetOkJsonAsync("/posts/" + Uri.EscapeDataString(kept));
        Assert.Equal(JsonValueKind.Null, live.GetProperty("deleted_at").ValueKind);
        // Never seen, so nothing to keep: no tombstone, the not_found row stays as it was.
        var missing = await client.GetOkJsonAsync("/posts/" + Uri.EscapeDataString(neverFetched));
        Assert.Equal(JsonValueKind.Null, missing.GetProperty("deleted_at").ValueKind);
        var withoutDeleted = await client.GetOkJsonAsync("/posts?include_deleted=false");
        Assert.DoesNotContain(deleted, withoutDeleted.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("post_uri").GetString()));
    }

    private static string? JobStatus(HttpClient client, string did)
    {
        using var response = client.GetAsync("/backfill/repos/" + did).GetAwaiter().GetResult();
        return response.IsSuccessStatusCode
            ? JsonDocument.Parse(response.Content.ReadAsStringAsync().GetAwaiter().GetResult()).RootElement.GetProperty("status").GetString()
            : null;
    }

    public sealed class OnSqlite() : RepoBackfillTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgres() : RepoBackfillTests(DatabaseProvider.Postgres), IRunsOnPostgres;
}
