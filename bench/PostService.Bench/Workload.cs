using System.Globalization;
using System.Text.Json;

namespace PostService.Bench;

/// <summary>One synthetic feed retrieval: the request id, who asked, when, and the post URIs served in order.</summary>
public sealed record SyntheticRetrieval(long Id, string RequesterDid, string Timestamp, IReadOnlyList<string> Uris);

/// <summary>
/// The synthetic traffic every benchmark uses, shaped like the feed generator's compliance records: retrievals of
/// 30 posts, URIs drawn from a pool of <see cref="PoolSize"/> posts. A share <see cref="FreshShare"/> of the posts
/// served are new (the next unseen post of the pool); the rest repeat posts already served, most often recent ones,
/// so each post is served about 1 / <see cref="FreshShare"/> times and popular ones many more. Deterministic per seed.
/// </summary>
public sealed class Workload(int poolSize, double freshShare = Workload.DefaultFreshShare, int seed = 42, long firstRequestId = 1)
{
    public const int PostsPerRetrieval = 30;
    public const double DefaultFreshShare = 0.1;
    public const int Authors = 20_000;
    public const int Requesters = 500;

    // Repeats pick index issued * (1 - u^Skew) for uniform u: with 3, half of them fall in the newest fifth.
    private const double Skew = 3;

    // The URI formula, shared with the Lua script the reads benchmark hands to wrk.
    private const string DidPrefix = "did:plc:bench";
    private const string RkeyPrefix = "3k";
    private const int DidDigits = 19;
    private const int RkeyDigits = 11;

    private static readonly DateTimeOffset Start = new(2025, 5, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly int _poolSize = poolSize >= PostsPerRetrieval
        ? poolSize : throw new ArgumentOutOfRangeException(nameof(poolSize), $"A retrieval serves {PostsPerRetrieval} distinct posts.");
    private readonly Random _random = new(seed);
    private long _nextId = firstRequestId;
    private int _issued;

    public int PoolSize => _poolSize;

    public double FreshShare => freshShare;

    /// <summary>Distinct pool posts served so far.</summary>
    public int Issued => _issued;

    /// <summary>The URI of pool post <paramref name="index"/>; its author is one of <see cref="Authors"/>.</summary>
    public static string PostUri(int index) =>
        $"at://{AuthorDid(index)}/app.bsky.feed.post/{RkeyPrefix}{index.ToString(CultureInfo.InvariantCulture).PadLeft(RkeyDigits, '0')}";

    public static string AuthorDid(int index) =>
        DidPrefix + (index % Authors).ToString(CultureInfo.InvariantCulture).PadLeft(DidDigits, '0');

    /// <summary>A Lua expression for <see cref="PostUri"/> of the integer <paramref name="indexVariable"/>, percent-encoded for a path.</summary>
    public static string LuaEncodedPostUri(string indexVariable) =>
        $"string.format(\"at%%3A%%2F%%2F{DidPrefix}%0{DidDigits}d%%2Fapp.bsky.feed.post%%2F{RkeyPrefix}%0{RkeyDigits}d\", {indexVariable} % {Authors}, {indexVariable})";

    /// <summary>The next <paramref name="count"/> retrievals, one minute of feed traffic apart per requester.</summary>
    public IEnumerable<SyntheticRetrieval> Retrievals(int count)
    {
        for (var n = 0; n < count; n++)
        {
            var id = _nextId++;
            var uris = new List<string>(PostsPerRetrieval);
            var onPage = new HashSet<int>();
            while (uris.Count < PostsPerRetrieval)
            {
                var index = NextIndex();
                if (onPage.Add(index))
                {
                    uris.Add(PostUri(index));
                }
            }
            var timestamp = Start.AddSeconds(id * 60.0 / Requesters).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
            yield return new SyntheticRetrieval(id, $"did:plc:subscriber{id % Requesters}", timestamp, uris);
        }
    }

    /// <summary>Retrievals until <paramref name="distinctPosts"/> pool posts have been served (the pool's size at most).</summary>
    public IEnumerable<SyntheticRetrieval> RetrievalsUntilIssued(int distinctPosts)
    {
        while (_issued < Math.Min(distinctPosts, _poolSize))
        {
            foreach (var retrieval in Retrievals(1))
            {
                yield return retrieval;
            }
        }
    }

    /// <summary>
    /// <c>POST /feed-retrievals</c> bodies of <paramref name="perRequest"/> retrievals each; a share
    /// <paramref name="cidShare"/> of the posts carry a CID (see <see cref="RequestBody"/>).
    /// </summary>
    public List<byte[]> Requests(int requests, int perRequest, double cidShare = 0) =>
        Enumerable.Range(0, requests).Select(_ => RequestBody(Retrievals(perRequest), cidShare)).ToList();

    /// <param name="cidShare">
    /// The share of served items that carry their post's CID, chosen by the URI, so a post has its CID in every
    /// retrieval or in none, as with a feed generator that knows the CIDs of some sources only.
    /// </param>
    public static byte[] RequestBody(IEnumerable<SyntheticRetrieval> retrievals, double cidShare = 0)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("retrievals");
            foreach (var retrieval in retrievals)
            {
                json.WriteStartObject();
                json.WriteNumber("id", retrieval.Id);
                json.WriteString("requester_did", retrieval.RequesterDid);
                json.WriteString("algo", "research-feed");
                json.WriteString("timestamp", retrieval.Timestamp);
                json.WriteStartArray("posts");
                for (var position = 0; position < retrieval.Uris.Count; position++)
                {
                    json.WriteStartObject();
                    json.WriteString("uri", retrieval.Uris[position]);
                    if (StableHash(retrieval.Uris[position]) % 1000 < cidShare * 1000)
                    {
                        json.WriteString("cid", $"bafyreibench{StableHash(retrieval.Uris[position]):x16}");
                    }
                    json.WriteNumber("position", position);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>FNV-1a: the same value in every process, unlike <see cref="string.GetHashCode()"/>.</summary>
    private static ulong StableHash(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var character in text)
        {
            hash = (hash ^ character) * 1099511628211UL;
        }
        return hash;
    }

    private int NextIndex()
    {
        if (_issued < _poolSize && (_issued == 0 || _random.NextDouble() < freshShare))
        {
            return _issued++;
        }
        var index = (int)(_issued * (1 - Math.Pow(_random.NextDouble(), Skew)));
        return Math.Min(index, _issued - 1);
    }
}
