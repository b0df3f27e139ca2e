using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Sdk;

namespace PostService.Tests.Infrastructure;

/// <summary>
/// The official Bluesky AppView with a real PDS and PLC on loopback, started by <c>shared/realappview/start.sh</c>
/// (which <c>scripts/test.sh</c> runs). Read from the <c>network.json</c> that start.sh writes once the network is
/// seeded: <c>$RAV_OUT</c>, else <c>$RAV_DIR/network.json</c>, else <c>/tmp/realappview-rt/network.json</c>.
/// </summary>
public sealed class RealAppViewNetwork
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);

    // The control API runs the network's indexer before answering; creating a post takes well under a second,
    // but a busy machine can be slow.
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(60) };

    private static readonly Lazy<(RealAppViewNetwork? Network, string? SkipReason)> Probe = new(ProbeOnce);

    private RealAppViewNetwork(string file, JsonElement json)
    {
        File = file;
        AppViewUrl = json.GetProperty("appviewUrl").GetString()!.TrimEnd('/');
        AppViewDid = json.GetProperty("appviewDid").GetString()!;
        ControlUrl = json.GetProperty("controlUrl").GetString()!.TrimEnd('/');
        Accounts = json.GetProperty("accounts").EnumerateObject().ToDictionary(
            account => account.Name,
            account => new Account(account.Value.GetProperty("did").GetString()!, account.Value.GetProperty("handle").GetString()!));
        Posts = json.GetProperty("posts").EnumerateObject().ToDictionary(post => post.Name, post => post.Value.GetString()!);
        DeletedPost = json.GetProperty("deletedPost").GetString()!;
        PlcUrl = json.GetProperty("plcUrl").GetString()!.TrimEnd('/');
        PdsUrl = json.GetProperty("pdsUrl").GetString()!.TrimEnd('/');
        FirehoseUrl = json.GetProperty("firehoseUrl").GetString()!;
    }

    /// <summary>The network, or null when it is not up (then <see cref="SkipReason"/> says why).</summary>
    public static RealAppViewNetwork? Current => Probe.Value.Network;

    /// <summary>The network, for tests that only run when it is up (<c>[RealAppViewFact]</c> and the like).</summary>
    public static RealAppViewNetwork Required =>
        Current ?? throw new InvalidOperationException("only run by a [RealAppView...] or [RealNetwork...] attribute when the network is up");

    /// <summary>Why the real-AppView tests are skipped, or null when the network answers. Probed once per test run.</summary>
    public static string? SkipReason => Probe.Value.SkipReason;

    public static string NetworkFile =>
        Environment.GetEnvironmentVariable("RAV_OUT") is { Length: > 0 } output ? output
        : Path.Combine(Environment.GetEnvironmentVariable("RAV_DIR") is { Length: > 0 } dir ? dir : "/tmp/realappview-rt", "network.json");

    public string File { get; }

    /// <summary>e.g. <c>http://localhost:2584</c>, without a trailing slash.</summary>
    public string AppViewUrl { get; }

    public string AppViewDid { get; }

    public string ControlUrl { get; }

    /// <summary>The PLC directory: <c>GET {PlcUrl}/{did}</c> is the DID document.</summary>
    public string PlcUrl { get; }

    /// <summary>The PDS every account of the network lives on.</summary>
    public string PdsUrl { get; }
    /// <summary>The PDS's <c>com.atproto.sync.subscribeRepos</c> WebSocket.</summary>
    public string FirehoseUrl { get; }

    /// <summary>The seeded accounts by name (<c>alice</c>, <c>bob</c>) with their handles at start.</summary>
    public IReadOnlyDictionary<string, Account> Accounts { get; }

    /// <summary>The seeded live posts by name: <c>plain</c>, <c>hashtag</c>, <c>externalEmbed</c>, <c>reply</c>.</summary>
    public IReadOnlyDictionary<string, string> Posts { get; }

    /// <summary>A post that was created, indexed and deleted before start.sh returned.</summary>
    public string DeletedPost { get; }

    /// <summary>Creates a post through the PDS; the AppView has indexed it when this returns.</summary>
    public async Task<(string Uri, string Cid)> CreatePostAsync(string by, string text)
    {
        var created = await ControlAsync("/post", new { by, text });
        return (created.GetProperty("uri").GetString()!, created.GetProperty("cid").GetString()!);
    }

    /// <summary>Creates a post quoting <paramref name="quote"/>; returns its URI.</summary>
    public async Task<string> CreatePostAsync(string by, string text, string quote) =>
        (await ControlAsync("/post", new { by, text, quote })).GetProperty("uri").GetString()!;

    /// <summary>Creates a post with the record's <c>tags</c> field (hashtags not in the text).</summary>
    public async Task<string> CreatePostAsync(string by, string text, IReadOnlyList<string> tags) =>
        (await ControlAsync("/post", new { by, text, tags })).GetProperty("uri").GetString()!;

    public Task LikeAsync(string by, string uri) => ControlAsync("/like", new { by, uri });

    public Task RepostAsync(string by, string uri) => ControlAsync("/repost", new { by, uri });

    public Task DeletePostAsync(string uri) => ControlAsync("/delete", new { uri });

    /// <summary>
    /// Creates a record through the control API: <c>/post</c> (text, langs, createdAt, replyTo, quote), <c>/like</c> and
    /// <c>/repost</c> (uri), <c>/follow</c> (subject). Returns its URI and CID.
    /// </summary>
    public async Task<(string Uri, string Cid)> CreateRecordAsync(string path, object body)
    {
        var created = await ControlAsync(path, body);
        return (created.GetProperty("uri").GetString()!, created.GetProperty("cid").GetString()!);
    }

    /// <summary>Every record of <paramref name="collection"/> in the repository, as its PDS lists them: URI, CID and value.</summary>
    public async Task<IReadOnlyList<(string Uri, string Cid, JsonElement Value)>> ListRecordsAsync(string did, string collection)
    {
        var records = new List<(string, string, JsonElement)>();
        string? cursor = null;
        do
        {
            var url = $"{PdsUrl}/xrpc/com.atproto.repo.listRecords?repo={Uri.EscapeDataString(did)}&collection={collection}&limit=100"
                      + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
            using var response = await Http.GetAsync(url);
            var page = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
            Assert.True(response.IsSuccessStatusCode, $"listRecords answered {(int)response.StatusCode}: {page}");
            foreach (var record in page.GetProperty("records").EnumerateArray())
            {
                records.Add((record.GetProperty("uri").GetString()!, record.GetProperty("cid").GetString()!, record.GetProperty("value").Clone()));
            }
            cursor = page.TryGetProperty("cursor", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
        }
        while (cursor is not null);
        return records;
    }

    /// <summary>
    /// A new account with a unique handle (<c>{prefix}-{random}.test</c>), for tests that change an account's state: the
    /// seeded ones are shared with every other test on the network.
    /// </summary>
    public async Task<Account> CreateAccountAsync(string prefix)
    {
        var created = await ControlAsync("/account", new { name = $"{prefix}{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 8, 18)] });
        return new Account(created.GetProperty("did").GetString()!, created.GetProperty("handle").GetString()!);
    }

    /// <summary>Takes one post down at the AppView (the PDS keeps serving it), or reverses that.</summary>
    public Task TakeDownPostAsync(string uri, bool undo = false) => ControlAsync("/takedown", new { uri, undo });

    /// <summary>Takes a whole account down at the AppView (it stays active on its PDS), or reverses that.</summary>
    public Task TakeDownAccountAsync(string did, bool undo = false) => ControlAsync("/takedown", new { did, undo });

    /// <summary>Deactivates the account on its PDS (<paramref name="by"/>: a name, handle or DID), or activates it again.</summary>
    public Task SetActiveAsync(string by, bool active) => ControlAsync(active ? "/activate" : "/deactivate", new { by });

    /// <summary>Creates <paramref name="count"/> posts at once; returns their URIs and CIDs in order.</summary>
    public async Task<IReadOnlyList<(string Uri, string Cid)>> CreatePostsAsync(string by, int count, string text)
    {
        var created = await ControlAsync("/posts", new { by, count, text });
        return created.GetProperty("posts").EnumerateArray()
            .Select(post => (post.GetProperty("uri").GetString()!, post.GetProperty("cid").GetString()!)).ToList();
    }

    /// <summary>Changes an account's handle (it must end in <c>.test</c>); the AppView serves it when this returns.</summary>
    public Task ChangeHandleAsync(string by, string handle) => ControlAsync("/handle", new { by, handle });

    /// <summary>The AppView's own <c>getPosts</c> answer, read straight from it: the reference to compare the service with.</summary>
    public async Task<IReadOnlyDictionary<string, JsonElement>> GetPostViewsAsync(IEnumerable<string> uris)
    {
        var query = string.Join("&", uris.Select(uri => "uris=" + Uri.EscapeDataString(uri)));
        using var response = await Http.GetAsync($"{AppViewUrl}/xrpc/app.bsky.feed.getPosts?{query}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"getPosts answered {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("posts").EnumerateArray()
            .ToDictionary(post => post.GetProperty("uri").GetString()!, post => post.Clone());
    }

    private async Task<JsonElement> ControlAsync(string path, object body)
    {
        using var response = await Http.PostAsJsonAsync(ControlUrl + path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"control API {path} answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static (RealAppViewNetwork?, string?) ProbeOnce()
    {
        var file = NetworkFile;
        if (!System.IO.File.Exists(file))
        {
            return (null, $"the real AppView network is not up: {file} is missing (start it with shared/realappview/start.sh, or run scripts/test.sh)");
        }
        RealAppViewNetwork network;
        try
        {
            network = new RealAppViewNetwork(file, JsonDocument.Parse(System.IO.File.ReadAllText(file)).RootElement);
        }
        catch (Exception exception) when (exception is JsonException or KeyNotFoundException or InvalidOperationException or IOException)
        {
            return (null, $"the real AppView network is not up: {file} is unreadable ({exception.Message})");
        }
        // network.json outlives a stopped network (stop.sh keeps it), so the AppView must also answer.
        using var probe = new HttpClient { Timeout = ProbeTimeout };
        try
        {
            using var health = probe.Send(new HttpRequestMessage(HttpMethod.Get, network.AppViewUrl + "/xrpc/_health"));
            if (!health.IsSuccessStatusCode)
            {
                return (null, $"the real AppView at {network.AppViewUrl} is not healthy (HTTP {(int)health.StatusCode})");
            }
            // A file left by an earlier start would name DIDs and posts the running network does not have.
            using var info = probe.Send(new HttpRequestMessage(HttpMethod.Get, network.ControlUrl + "/info"));
            var running = JsonDocument.Parse(info.Content.ReadAsStream()).RootElement;
            if (running.GetProperty("appviewDid").GetString() != network.AppViewDid
                || running.GetProperty("posts").GetProperty("plain").GetString() != network.Posts["plain"])
            {
                return (null, $"{file} is stale: it does not describe the network answering at {network.ControlUrl}");
            }
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or JsonException
                                              or KeyNotFoundException or InvalidOperationException)
        {
            return (null, $"the real AppView network in {file} does not answer ({exception.GetType().Name}: {exception.Message})");
        }
        return (network, null);
    }

    public sealed record Account(string Did, string Handle);
}

/// <summary>
/// A test against the real AppView network on the test class's database: skipped, with the reason, when the network is
/// not up or the database is an unavailable PostgreSQL.
/// </summary>
[Xunit.Sdk.XunitTestCaseDiscoverer("PostService.Tests.Infrastructure." + nameof(DatabaseFactDiscoverer), "PostService.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class RealAppViewDatabaseFactAttribute : FactAttribute
{
    public RealAppViewDatabaseFactAttribute()
    {
        if (RealAppViewNetwork.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>A test against the real AppView network: reported as skipped, with the reason, when the network is not up.</summary>
public sealed class RealAppViewFactAttribute : FactAttribute
{
    public RealAppViewFactAttribute()
    {
        if (RealAppViewNetwork.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>
/// A <see cref="DatabaseFactAttribute"/> test that also needs the real AppView network: skipped, with the reason, when the
/// network is not up (or, on PostgreSQL, when that is unavailable).
/// </summary>
[XunitTestCaseDiscoverer("PostService.Tests.Infrastructure." + nameof(DatabaseFactDiscoverer), "PostService.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class RealNetworkDatabaseFactAttribute : FactAttribute
{
    public RealNetworkDatabaseFactAttribute()
    {
        if (RealAppViewNetwork.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}
