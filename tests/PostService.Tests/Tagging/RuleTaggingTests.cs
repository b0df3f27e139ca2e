using System.Net.Http.Json;
using PostService.Storage;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Tagging;

public abstract class RuleTaggingTests(DatabaseProvider provider) : IAsyncLifetime
{
    public sealed class OnSqlite() : RuleTaggingTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgres() : RuleTaggingTests(DatabaseProvider.Postgres), IRunsOnPostgres;

    private static readonly Dictionary<string, string?> Rules = new()
    {
        ["PostService:Tagging:Rules:0:Tag"] = "weather",
        ["PostService:Tagging:Rules:0:Pattern"] = @"\b(rain|snow)\b",
        ["PostService:Tagging:Rules:0:Version"] = "2025-05",
        ["PostService:Tagging:Rules:1:Tag"] = "elections",
        ["PostService:Tagging:Rules:1:Hashtag"] = "#Vote",
    };

    private FakeAppView _appView = null!;

    public async Task InitializeAsync() => _appView = await FakeAppView.StartAsync();

    public async Task DisposeAsync() => await _appView.DisposeAsync();

    private static string Uri(string rkey) => RetrievalBuilder.PostUri(rkey, "did:plc:ruled");

    [DatabaseFact]
    public async Task RulesTagPostsAtHydrationByTextAndByHashtag()
    {
        _appView.AddPost(Uri("rain"), post => post with { Text = "Heavy RAIN in Leeds today" });
        _appView.AddPost(Uri("vote"), post => post with { Text = "Polls open at 7", TextHashtags = ["ＶＯＴＥ"] });
        _appView.AddPost(Uri("tagged-vote"), post => post with { Text = "Reminder", RecordTags = ["vote"] });
        _appView.AddPost(Uri("other"), post => post with { Text = "rainbow" });
        using var service = HydratingService.Start(_appView, Rules, provider: provider);
        var client = service.CreateClient();

        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder()
            .WithPost(Uri("rain"), 0).WithPost(Uri("vote"), 1).WithPost(Uri("tagged-vote"), 2).WithPost(Uri("other"), 3)))).EnsureSuccessStatusCode();
        await Eventually.TrueAsync(() => service.Count("SELECT count(*) FROM posts WHERE hydration_status = 'ok'") == 4, "all four are hydrated");
        await Eventually.TrueAsync(() => service.Count("SELECT count(*) FROM post_tags") == 3, "the rules have tagged three posts");

        var weather = await client.GetOkJsonAsync("/tags/weather/posts");
        var item = Assert.Single(weather.GetProperty("items").EnumerateArray());
        Assert.Equal(Uri("rain"), item.GetProperty("post_uri").GetString());
        Assert.Equal("rule", item.GetProperty("applied_by").GetString());
        Assert.Equal("2025-05", item.GetProperty("version").GetString());
        var elections = await client.GetOkJsonAsync("/tags/elections/posts");
        Assert.Equal([Uri("tagged-vote"), Uri("vote")],
            elections.GetProperty("items").EnumerateArray().Select(post => post.GetProperty("post_uri").GetString()));
    }

    [DatabaseFact]
    public async Task ARuleNeverOverridesAnAnalystsTag()
    {
        _appView.AddPost(Uri("rain"), post => post with { Text = "snow expected" });
        using var service = HydratingService.Start(_appView, Rules, provider: provider);
        var client = service.CreateClient();
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPost(Uri("rain"), 0)))).EnsureSuccessStatusCode();
        await Eventually.TrueAsync(() => service.Count("SELECT count(*) FROM post_tags WHERE applied_by = 'rule'") == 1, "the rule has tagged the post");

        (await client.PutAsJsonAsync($"/posts/{System.Uri.EscapeDataString(Uri("rain"))}/tags/weather", new { notes = "checked by hand" })).EnsureSuccessStatusCode();
        var refresh = await (await client.PostAsync("/hydrate?refresh=true&wait=true", null)).AssertOkJsonAsync();

        Assert.Equal(1, refresh.GetProperty("hydrated").GetInt64());
        var item = Assert.Single((await client.GetOkJsonAsync("/tags/weather/posts")).GetProperty("items").EnumerateArray());
        Assert.Equal("user", item.GetProperty("applied_by").GetString());
        Assert.Equal("checked by hand", item.GetProperty("notes").GetString());
    }
}
