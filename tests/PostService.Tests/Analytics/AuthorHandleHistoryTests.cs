using Dapper;
using PostService.Storage;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Analytics;

/// <summary>
/// Handle history against the real network: an author who changes handle between two fetches of their post has the
/// new one on the post and both in <c>author_handles</c>.
/// </summary>
public abstract class AuthorHandleHistoryTests(DatabaseProvider provider)
{
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(60);

    private static RealAppViewNetwork Network => RealAppViewNetwork.Required;

    [RealNetworkDatabaseFact]
    public async Task ARefreshThatSeesANewHandleKeepsItOnThePostAndTheOldOneInTheHistory()
    {
        var author = await Network.CreateAccountAsync("hh");
        var (uri, _) = await Network.CreatePostAsync(author.Did, "PostService: written before a handle change");
        using var service = HydratingService.Start(Network.AppViewUrl, new Dictionary<string, string?>
        {
            ["PostService:AppView:AttemptTimeoutSeconds"] = "15",
        }, provider: provider);
        using var db = service.OpenDatabase();
        string? Handle() => db.ExecuteScalar<string?>("SELECT author_handle FROM posts WHERE post_uri = @uri", new { uri });

        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(RetrievalBuilder.Serving(uri)))).EnsureSuccessStatusCode();
        await Eventually.TrueAsync(() => Handle() == author.Handle, "the post is hydrated with the first handle", SettleTimeout);
        var renamed = $"hh{Guid.NewGuid():N}"[..12] + ".test";
        await Network.ChangeHandleAsync(author.Did, renamed);
        (await service.CreateClient().PostAsync("/hydrate?refresh=true&wait=true", null)).EnsureSuccessStatusCode();

        Assert.Equal(renamed, Handle());
        var history = db.Query<(string Handle, string FirstSeenAt, string LastSeenAt)>(
            "SELECT handle, ts_text(first_seen_at), ts_text(last_seen_at) FROM author_handles WHERE did = @Did ORDER BY first_seen_at",
            new { author.Did }).ToList();
        Assert.Equal([author.Handle, renamed], history.Select(row => row.Handle));
        Assert.True(string.CompareOrdinal(history[0].LastSeenAt, history[1].FirstSeenAt) < 0, "the old handle was last seen before the new one was first seen");
        Assert.Equal(history[1].FirstSeenAt, history[1].LastSeenAt);

        var api = await (await service.CreateClient().GetAsync($"/authors/{Uri.EscapeDataString(author.Did)}/handles")).AssertOkJsonAsync();
        Assert.Equal([author.Handle, renamed], api.GetProperty("handles").EnumerateArray().Select(handle => handle.GetProperty("handle").GetString()!));
    }

    public sealed class OnSqlite() : AuthorHandleHistoryTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgres() : AuthorHandleHistoryTests(DatabaseProvider.Postgres), IRunsOnPostgres;
}
