using System.Net.Http.Json;
using System.Text.Json;
using PostService.Cli;
using PostService.Storage;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Engagements;

/// <summary>
/// What a subscriber did with what their feed served, from their real repository: each like, repost, reply and quote joined
/// to the latest serving of its post to them before it (a later serving, or one to someone else, does not count).
/// </summary>
public abstract class EngagementsTests(DatabaseProvider provider)
{
    private static RealAppViewNetwork Network => RealAppViewNetwork.Required;

    private static string Row(JsonElement row) => string.Join(" ",
        row.GetProperty("engagement_type").GetString(), row.GetProperty("post_uri").GetString(),
        row.GetProperty("request_id").ToString(), row.GetProperty("position").ToString());

    [RealNetworkDatabaseFact]
    public async Task EachEngagementIsJoinedToTheLatestServingOfItsPostToThatSubscriberBeforeIt()
    {
        var network = Network;
        var subscriber = await network.CreateAccountAsync("eng");
        var author = await network.CreateAccountAsync("enga");
        var (liked, _) = await network.CreatePostAsync(author.Did, "served twice, then liked and replied to");
        var (reposted, _) = await network.CreatePostAsync(author.Did, "served once, then reposted");
        var (quoted, _) = await network.CreatePostAsync(author.Did, "never served, quoted");
        var (byHandle, _) = await network.CreatePostAsync(author.Did, "served by its handle-based URI, then liked");
        var servedByHandle = byHandle.Replace(author.Did, author.Handle, StringComparison.Ordinal);
        var now = DateTimeOffset.UtcNow;
        var first = new RetrievalBuilder().By(subscriber.Did).At(DbTime.ToText(now.AddHours(-2))).WithPost(reposted, 0).WithPost(liked, 3)
            .WithPost(servedByHandle, 4);
        var second = new RetrievalBuilder().By(subscriber.Did).At(DbTime.ToText(now.AddHours(-1))).WithPost(liked, 5);
        var later = new RetrievalBuilder().By(subscriber.Did).At(DbTime.ToText(now.AddHours(1))).WithPost(liked, 7).WithPost(quoted, 1);
        var someoneElse = new RetrievalBuilder().By("did:plc:someoneelse").At(DbTime.ToText(now.AddHours(-1))).WithPost(quoted, 2);
        var (like, _) = await network.CreateRecordAsync("/like", new { by = subscriber.Did, uri = liked });
        await network.CreateRecordAsync("/like", new { by = subscriber.Did, uri = byHandle });
        await network.CreateRecordAsync("/repost", new { by = subscriber.Did, uri = reposted });
        await network.CreateRecordAsync("/post", new { by = subscriber.Did, text = "a reply", replyTo = liked });
        await network.CreateRecordAsync("/post", new { by = subscriber.Did, text = "a quote", quote = quoted });

        // Hydrating, so that the handle-based URI is resolved (resolved_uri) and its serving found by the DID form.
        using var service = HydratingService.Start(network.AppViewUrl, new Dictionary<string, string?>
        {
            ["PostService:Identity:PlcUrl"] = network.PlcUrl,
            ["PostService:AppView:AttemptTimeoutSeconds"] = "15",
        }, provider: provider);
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(first, second, later, someoneElse))).EnsureSuccessStatusCode();
        await Eventually.TrueAsync(() => service.Count("SELECT count(*) FROM posts WHERE resolved_uri = @byHandle", new { byHandle }) == 1,
            "the handle-based URI is resolved", TimeSpan.FromSeconds(60));
        var client = service.CreateClient();
        (await client.PostAsJsonAsync("/backfill/repos", new { dids = new[] { subscriber.Did } })).EnsureSuccessStatusCode();
        await Eventually.TrueAsync(() => client.GetStringAsync("/backfill/repos/" + subscriber.Did).GetAwaiter().GetResult().Contains("\"complete\""),
            "the backfill completes", TimeSpan.FromSeconds(60));

        var served = (await (await client.GetAsync($"/engagements?requester_did={subscriber.Did}")).AssertOkJsonAsync()).GetProperty("items");
        Assert.Equal(
            new[] { $"like {liked} {second.Id} 5", $"reply {liked} {second.Id} 5", $"repost {reposted} {first.Id} 0", $"like {byHandle} {first.Id} 4" }
                .Order(StringComparer.Ordinal),
            served.EnumerateArray().Select(Row).Order(StringComparer.Ordinal));
        Assert.Equal(servedByHandle, served.EnumerateArray().Single(row => row.GetProperty("post_uri").GetString() == byHandle).GetProperty("served_uri").GetString());
        var likeRow = served.EnumerateArray().Single(row => row.GetProperty("engagement_uri").GetString() == like);
        Assert.Equal(liked, likeRow.GetProperty("served_uri").GetString());
        Assert.True(likeRow.GetProperty("served").GetBoolean());
        Assert.Equal(subscriber.Did, likeRow.GetProperty("requester_did").GetString());
        var seconds = likeRow.GetProperty("seconds_after_served").GetDouble();
        Assert.Equal((DateTimeOffset.Parse(likeRow.GetProperty("engaged_at").GetString()!) - DateTimeOffset.Parse(likeRow.GetProperty("served_at").GetString()!)).TotalSeconds, seconds, 3);
        Assert.InRange(seconds, 3_500, 4_000);

        var notServed = (await (await client.GetAsync($"/engagements?requester_did={subscriber.Did}&served=false")).AssertOkJsonAsync()).GetProperty("items");
        var quote = Assert.Single(notServed.EnumerateArray());
        Assert.Equal("quote", quote.GetProperty("engagement_type").GetString());
        Assert.Equal(quoted, quote.GetProperty("post_uri").GetString());
        Assert.False(quote.GetProperty("served").GetBoolean());
        Assert.Equal(JsonValueKind.Null, quote.GetProperty("request_id").ValueKind);

        if (service.DatabasePath is { } path)
        {
            var report = await CliRunner.RunAsync(["report", "engagements", "--db", path, "--requester-did", subscriber.Did, "--json"]);
            Assert.True(report.ExitCode == ExitCodes.Ok, report.ToString());
            Assert.Equal(served.EnumerateArray().Select(Row), JsonDocument.Parse(report.Output).RootElement.EnumerateArray().Select(Row));
        }
    }

    public sealed class OnSqlite() : EngagementsTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgres() : EngagementsTests(DatabaseProvider.Postgres), IRunsOnPostgres;
}
