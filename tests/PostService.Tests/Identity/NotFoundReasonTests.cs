using System.Text.Json;
using Dapper;
using PostService.Storage;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Identity;

/// <summary>
/// Why a post is not returned, and handle URIs, against the real network (official AppView, PDS and PLC): each reason
/// must be what the real services say. Every account whose state a test changes is its own, made for the test, and
/// every takedown or deactivation is undone.
/// </summary>
public abstract class NotFoundReasonTests(DatabaseProvider provider)
{
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(60);

    private static RealAppViewNetwork Network => RealAppViewNetwork.Required;

    private PostServiceFactory StartService() => HydratingService.Start(Network.AppViewUrl, new Dictionary<string, string?>
    {
        ["PostService:AppView:AttemptTimeoutSeconds"] = "15",
        ["PostService:Identity:PlcUrl"] = Network.PlcUrl,
        ["PostService:Identity:ExplainNotFound"] = "true",
    }, provider: provider);

    private static async Task IngestAsync(PostServiceFactory service, params string[] uris) =>
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(RetrievalBuilder.Serving(uris)))).EnsureSuccessStatusCode();

    private static IDictionary<string, object?> Stored(PostServiceFactory service, string uri)
    {
        using var db = service.OpenDatabase();
        return (IDictionary<string, object?>)db.QuerySingle(
            "SELECT post_uri, hydration_status, hydration_error, not_found_reason, resolved_uri, cid, author_did, author_handle, text, " +
            "ts_text(created_at) AS created_at, langs, reply_parent_uri, embed_type, metadata_source FROM posts WHERE post_uri = @uri", new { uri });
    }

    private static Task ReasonsAsync(PostServiceFactory service, params (string Uri, string Reason)[] expected) =>
        Eventually.TrueAsync(
            () => expected.All(post => Stored(service, post.Uri) is var row && (string?)row["hydration_status"] == "not_found"
                                       && (string?)row["not_found_reason"] == post.Reason),
            string.Join(", ", expected.Select(post => $"{post.Uri} is not_found because {post.Reason}")), SettleTimeout);

    [RealNetworkDatabaseFact]
    public async Task EachPostTheAppViewLeavesOutGetsTheReasonItsPdsGives()
    {
        var network = Network;
        var author = await network.CreateAccountAsync("nfa");
        var quitter = await network.CreateAccountAsync("nfq");
        var banned = await network.CreateAccountAsync("nfb");
        var (deleted, _) = await network.CreatePostAsync(author.Did, "PostService: deleted by its author");
        var (takenDown, takenDownCid) = await network.CreatePostAsync(author.Did, "PostService: taken down at the AppView");
        var (deactivated, _) = await network.CreatePostAsync(quitter.Did, "PostService: its account is deactivated");
        var (bannedPost, _) = await network.CreatePostAsync(banned.Did, "PostService: its account is taken down at the AppView");
        await network.DeletePostAsync(deleted);
        try
        {
            await network.TakeDownPostAsync(takenDown);
            await network.SetActiveAsync(quitter.Did, active: false);
            await network.TakeDownAccountAsync(banned.Did);
            Assert.Empty(await network.GetPostViewsAsync([deleted, takenDown, deactivated, bannedPost]));

            using var service = StartService();
            await IngestAsync(service, deleted, takenDown, deactivated, bannedPost);
            await ReasonsAsync(service,
                (deleted, "deleted"), (takenDown, "hidden"), (deactivated, "account_deactivated"), (bannedPost, "hidden"));

            // A hidden post keeps what its record says, as the PDS serves it.
            var hidden = Stored(service, takenDown);
            Assert.Equal("pds", hidden["metadata_source"]);
            Assert.Equal(takenDownCid, hidden["cid"]);
            Assert.Equal("PostService: taken down at the AppView", hidden["text"]);
            Assert.Equal(author.Did, hidden["author_did"]);
            Assert.Equal(author.Handle, hidden["author_handle"]);
            Assert.True(DbTime.TryParse((string?)hidden["created_at"], out _), "created_at is the record's");
            Assert.Contains("deleted", (string)Stored(service, deleted)["hydration_error"]!);
            Assert.Contains("deactivated", (string)Stored(service, deactivated)["hydration_error"]!);

            // The API shows the reason, filters by it, and coverage breaks not_found down by it.
            var client = service.CreateClient();
            var post = await (await client.GetAsync("/posts/" + Uri.EscapeDataString(deleted))).AssertOkJsonAsync();
            Assert.Equal("deleted", post.GetProperty("not_found_reason").GetString());
            var hiddenPage = await (await client.GetAsync("/posts?not_found_reason=hidden")).AssertOkJsonAsync();
            Assert.Equal(new[] { bannedPost, takenDown }.Order(StringComparer.Ordinal), hiddenPage.GetProperty("items").EnumerateArray()
                .Select(item => item.GetProperty("post_uri").GetString()!).Order(StringComparer.Ordinal));
            var coverage = await (await client.GetAsync("/hydration/coverage")).AssertOkJsonAsync();
            var reasons = coverage.GetProperty("not_found_by_reason");
            Assert.Equal(2, reasons.GetProperty("hidden").GetInt64());
            Assert.Equal(1, reasons.GetProperty("deleted").GetInt64());
            Assert.Equal(1, reasons.GetProperty("account_deactivated").GetInt64());

            // A forced re-fetch asks again: once the account is back, its post is served and the reason goes.
            await network.SetActiveAsync(quitter.Did, active: true);
            (await client.PostAsync("/hydrate?force=true&wait=true", null)).EnsureSuccessStatusCode();
            var back = Stored(service, deactivated);
            Assert.Equal("ok", back["hydration_status"]);
            Assert.Null(back["not_found_reason"]);
            Assert.Equal("appview", back["metadata_source"]);
        }
        finally
        {
            await network.TakeDownPostAsync(takenDown, undo: true);
            await network.TakeDownAccountAsync(banned.Did, undo: true);
            await network.SetActiveAsync(quitter.Did, active: true);
        }
    }

    [RealNetworkDatabaseFact]
    public async Task AHandleUriIsHydratedByItsDidFormAndAHandleThatDoesNotResolveIsAnErrorWithItsReason()
    {
        var network = Network;
        var author = await network.CreateAccountAsync("hdl");
        var (uri, cid) = await network.CreatePostAsync(author.Did, "PostService: served by handle");
        var byHandle = uri.Replace(author.Did, author.Handle, StringComparison.Ordinal);
        var unresolvable = $"at://nobody-{Guid.NewGuid():N}.test/app.bsky.feed.post/3k2la3b4c5d6e";
        using var service = StartService();

        await IngestAsync(service, byHandle, unresolvable);
        await Eventually.TrueAsync(() => (string?)Stored(service, byHandle)["hydration_status"] == "ok"
                                         && (string?)Stored(service, unresolvable)["hydration_status"] == "error",
            "the handle URI is ok and the unresolvable one an error", SettleTimeout);

        var stored = Stored(service, byHandle);
        Assert.Equal(uri, stored["resolved_uri"]);
        Assert.Equal(cid, stored["cid"]);
        Assert.Equal(author.Did, stored["author_did"]);
        Assert.Equal(author.Handle, stored["author_handle"]);
        Assert.Equal("PostService: served by handle", stored["text"]);
        // What follows the fetch is kept under the URI that was served, as its row is.
        await Eventually.TrueAsync(() => service.Count("SELECT count(*) FROM post_metric_snapshots WHERE post_uri = @byHandle", new { byHandle }) == 1,
            "the handle URI's first snapshot is recorded under it", SettleTimeout);
        var failed = Stored(service, unresolvable);
        Assert.Contains("does not resolve", (string)failed["hydration_error"]!);
        Assert.Null(failed["resolved_uri"]);
        // Retried with the usual backoff, not given up at once.
        using var db = service.OpenDatabase();
        Assert.InRange(db.ExecuteScalar<long>("SELECT attempts FROM posts WHERE post_uri = @unresolvable", new { unresolvable }), 1, 4);
        Assert.NotNull(db.ExecuteScalar<string?>("SELECT ts_text(next_attempt_at) FROM posts WHERE post_uri = @unresolvable", new { unresolvable }));
    }

    public sealed class OnSqlite() : NotFoundReasonTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgres() : NotFoundReasonTests(DatabaseProvider.Postgres), IRunsOnPostgres;
}
