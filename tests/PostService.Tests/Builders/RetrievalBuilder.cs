namespace PostService.Tests.Builders;

/// <summary>Feed retrievals shaped like the feed generator's compliance records.</summary>
public sealed class RetrievalBuilder
{
    private static long _nextId = 1_000;
    private readonly List<Dictionary<string, object?>> _posts = [];
    private long _id = Interlocked.Increment(ref _nextId);
    private string _requesterDid = "did:plc:subscriber1";
    private string? _timestamp = "2025-05-01T12:00:00.000Z";
    private string? _algo = "research-feed";

    public static string PostUri(string rkey, string did = "did:plc:author1") => $"at://{did}/app.bsky.feed.post/{rkey}";

    public long Id => _id;

    public RetrievalBuilder WithId(long id)
    {
        _id = id;
        return this;
    }

    public RetrievalBuilder By(string requesterDid)
    {
        _requesterDid = requesterDid;
        return this;
    }

    public RetrievalBuilder At(string? timestamp)
    {
        _timestamp = timestamp;
        return this;
    }

    public RetrievalBuilder WithAlgo(string? algo)
    {
        _algo = algo;
        return this;
    }

    /// <summary>A post item; <paramref name="position"/> is sent as given (int, string, float or null for absent).</summary>
    public RetrievalBuilder WithPost(string? uri, object? position = null, string? cid = null)
    {
        var item = new Dictionary<string, object?>();
        if (uri is not null)
        {
            item["uri"] = uri;
        }
        if (position is not null)
        {
            item["position"] = position;
        }
        if (cid is not null)
        {
            item["cid"] = cid;
        }
        _posts.Add(item);
        return this;
    }

    /// <summary>Posts at positions 0..count-1 with distinct URIs.</summary>
    public RetrievalBuilder WithPosts(int count, string prefix = "p")
    {
        for (var i = 0; i < count; i++)
        {
            WithPost(PostUri($"{prefix}{_id}x{i}"), i);
        }
        return this;
    }

    public Dictionary<string, object?> Build()
    {
        var retrieval = new Dictionary<string, object?>
        {
            ["id"] = _id,
            ["requester_did"] = _requesterDid,
            ["algo"] = _algo,
            ["posts"] = _posts,
        };
        if (_timestamp is not null)
        {
            retrieval["timestamp"] = _timestamp;
        }
        return retrieval;
    }

    /// <summary>One retrieval serving <paramref name="uris"/> at positions 0, 1, ...</summary>
    public static RetrievalBuilder Serving(params string[] uris)
    {
        var retrieval = new RetrievalBuilder();
        for (var i = 0; i < uris.Length; i++)
        {
            retrieval.WithPost(uris[i], i);
        }
        return retrieval;
    }

    public static object Batch(params RetrievalBuilder[] retrievals) => new { retrievals = retrievals.Select(r => r.Build()).ToArray() };
}
