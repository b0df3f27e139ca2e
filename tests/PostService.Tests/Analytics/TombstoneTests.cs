using Dapper;
using PostService.Storage;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Analytics;

/// <summary>
/// Tombstones against the real network: a post the AppView returned, then deleted by its author and fetched again, keeps
/// its row and what was served, with <c>deleted_at</c> and the reason its PDS gives.
/// </summary>
public abstract class TombstoneTests(DatabaseProvider provider)
{
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(60);

    private static RealAppViewNetwork Network => RealAppViewNetwork.Required;

    private PostServiceFactory StartService(bool redactDeletedText = false) => HydratingService.Start(Network.AppViewUrl, new Dictionary<string, string?>
    {
        ["PostService:AppView:AttemptTimeoutSeconds"] = "15",
        ["PostService:Identity:PlcUrl"] = Network.PlcUrl,
        ["PostService:Identity:ExplainNotFound"] = "true",
        ["PostService:Privacy:RedactDeletedText"] = redactDeletedText ? "true" : "false",
    }, provider: provider);

    private static (string? Status, string? Text, string? DeletedAt, string? Reason, string? Cid) Stored(PostServiceFactory service, string uri)
    {
        using var db = service.OpenDatabase();
        return db.QuerySingle<(string?, string?, string?, string?, string?)>(
            "SELECT hydration_status, text, ts_text(deleted_at), not_found_reason, cid FROM posts WHERE post_uri = @uri", new { uri });
    }

    /// <summary>Serves <paramref name="uris"/>, waits for them to be ok, deletes the first and re-fetches all by force.</summary>
    private static async Task DeleteAfterHydrationAsync(PostServiceFactory service, string deleted, params string[] others)
    {
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(RetrievalBuilder.Serving([deleted, .. others])))).EnsureSuccessStatusCode();
        await Eventually.TrueAsync(() => new[] { deleted }.Concat(others).All(uri => Stored(service, uri).Status == "ok"), "the posts are ok", SettleTimeout);
        await Network.DeletePostAsync(deleted);
        (await service.CreateClient().PostAsync("/hydrate?force=true&refresh=true&wait=true", null)).EnsureSuccessStatusCode();
        await Eventually.TrueAsync(() => Stored(service, deleted).Reason == "deleted", "the deleted post's reason is deleted", SettleTimeout);
    }

    [RealNetworkDatabaseFact]
    public async Task ADeletedPostKeepsItsRowAndMetadataWithDeletedAtAndListsFlagOrFilterIt()
    {
        var author = await Network.CreateAccountAsync("tmb");
        var (deleted, cid) = await Network.CreatePostAsync(author.Did, "PostService: hydrated, then deleted by its author");
        var (live, _) = await Network.CreatePostAsync(author.Did, "PostService: still there");
        using var service = StartService();

        await DeleteAfterHydrationAsync(service, deleted, live);

        var tombstone = Stored(service, deleted);
        Assert.Equal("not_found", tombstone.Status);
        Assert.Equal("PostService: hydrated, then deleted by its author", tombstone.Text);
        Assert.Equal(cid, tombstone.Cid);
        Assert.NotNull(tombstone.DeletedAt);
        Assert.Null(Stored(service, live).DeletedAt);

        var client = service.CreateClient();
        var post = await (await client.GetAsync("/posts/" + Uri.EscapeDataString(deleted))).AssertOkJsonAsync();
        Assert.Equal(tombstone.DeletedAt, post.GetProperty("deleted_at").GetString());
        Assert.Equal("deleted", post.GetProperty("not_found_reason").GetString());
        var all = await (await client.GetAsync("/posts")).AssertOkJsonAsync();
        Assert.Equal(new[] { deleted, live }.Order(StringComparer.Ordinal),
            all.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("post_uri").GetString()!));
        var liveOnly = await (await client.GetAsync("/posts?include_deleted=false")).AssertOkJsonAsync();
        Assert.Equal([live], liveOnly.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("post_uri").GetString()!));

        // The export keeps it too, flagged.
        var csv = await client.GetStringAsync("/exports/posts.csv");
        var header = csv.Split('\n')[0].TrimEnd('\r').Split(',');
        var row = csv.Split('\n').Single(line => line.StartsWith(deleted, StringComparison.Ordinal));
        Assert.Contains("deleted_at", header);
        Assert.Contains("hydrated, then deleted", row);
        Assert.Contains(tombstone.DeletedAt![..16], row);

        // Counted on the day it was found gone, under its reason.
        var trend = await client.GetOkJsonAsync("/posts/tombstones?days=7");
        var today = Assert.Single(trend.GetProperty("per_day").EnumerateArray());
        Assert.Equal(tombstone.DeletedAt[..10], today.GetProperty("day").GetString());
        Assert.Equal(1, today.GetProperty("tombstoned").GetInt64());
        Assert.Equal(1, today.GetProperty("tombstoned_by_reason").GetProperty("deleted").GetInt64());
        Assert.Equal(1, today.GetProperty("not_found_by_reason").GetProperty("deleted").GetInt64());
        Assert.Equal(1, trend.GetProperty("tombstoned").GetInt64());
    }

    [RealNetworkDatabaseFact]
    public async Task WithRedactDeletedTextTheTombstoneKeepsItsMetadataButNotItsText()
    {
        var author = await Network.CreateAccountAsync("tmr");
        var (deleted, cid) = await Network.CreatePostAsync(author.Did, "PostService: text to forget once deleted");
        var (live, _) = await Network.CreatePostAsync(author.Did, "PostService: text to keep");
        using var service = StartService(redactDeletedText: true);

        await DeleteAfterHydrationAsync(service, deleted, live);

        var tombstone = Stored(service, deleted);
        Assert.NotNull(tombstone.DeletedAt);
        Assert.Null(tombstone.Text);
        Assert.Equal(cid, tombstone.Cid);
        Assert.Equal("PostService: text to keep", Stored(service, live).Text);
    }

    public sealed class OnSqlite() : TombstoneTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgres() : TombstoneTests(DatabaseProvider.Postgres), IRunsOnPostgres;
}
