using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace PostService.Tests.Infrastructure;

/// <summary>
/// A post known to <see cref="FakeAppView"/>. Customise with <c>with</c> or the <c>With…</c> helpers; it is rendered
/// as an <c>app.bsky.feed.defs#postView</c> in the shape of the AppView's unauthenticated output.
/// </summary>
public sealed record FakePost
{
    public required string Uri { get; init; }
    public required string Cid { get; init; }
    public required string AuthorDid { get; init; }
    public required string AuthorHandle { get; init; }
    public string? AuthorDisplayName { get; init; }
    public required string Text { get; init; }

    /// <summary>The record's createdAt, exactly as served.</summary>
    public required string CreatedAt { get; init; }

    /// <summary>The view's indexedAt, exactly as served.</summary>
    public required string IndexedAt { get; init; }

    public IReadOnlyList<string>? Langs { get; init; }
    public string? ReplyParentUri { get; init; }
    public string? ReplyRootUri { get; init; }

    /// <summary>The view's <c>embed</c> (an <c>app.bsky.embed.*#view</c>).</summary>
    public JsonObject? Embed { get; init; }

    /// <summary>The record's <c>embed</c> (an <c>app.bsky.embed.*</c>), kept consistent with <see cref="Embed"/> by the helpers.</summary>
    public JsonObject? RecordEmbed { get; init; }

    /// <summary>Hashtags written in the text (<c>#tag</c>), each with its <c>app.bsky.richtext.facet#tag</c> facet.</summary>
    public IReadOnlyList<string>? TextHashtags { get; init; }

    /// <summary>The record's <c>tags</c> field: hashtags that are not in the text.</summary>
    public IReadOnlyList<string>? RecordTags { get; init; }

    public long LikeCount { get; init; }
    public long RepostCount { get; init; }
    public long ReplyCount { get; init; }
    public long QuoteCount { get; init; }
    public long BookmarkCount { get; init; }

    /// <summary>Makes this post a reply; the root defaults to the parent (a reply to a top-level post).</summary>
    public FakePost WithReply(string parentUri, string? rootUri = null) =>
        this with { ReplyParentUri = parentUri, ReplyRootUri = rootUri ?? parentUri };

    public FakePost WithImages(int count = 1)
    {
        var views = new JsonArray();
        var blobs = new JsonArray();
        for (var i = 1; i <= count; i++)
        {
            var blobCid = FakeCid($"{Uri}#image{i}", raw: true);
            var image = $"{AuthorDid}/{blobCid}@jpeg";
            views.Add(new JsonObject
            {
                ["thumb"] = $"https://cdn.bsky.app/img/feed_thumbnail/plain/{image}",
                ["fullsize"] = $"https://cdn.bsky.app/img/feed_fullsize/plain/{image}",
                ["alt"] = $"image {i}",
                ["aspectRatio"] = new JsonObject { ["width"] = 1000, ["height"] = 750 },
            });
            blobs.Add(new JsonObject
            {
                ["alt"] = $"image {i}",
                ["image"] = new JsonObject
                {
                    ["$type"] = "blob",
                    ["ref"] = new JsonObject { ["$link"] = blobCid },
                    ["mimeType"] = "image/jpeg",
                    ["size"] = 100_000 + i,
                },
                ["aspectRatio"] = new JsonObject { ["width"] = 1000, ["height"] = 750 },
            });
        }

        return this with
        {
            Embed = new JsonObject { ["$type"] = "app.bsky.embed.images#view", ["images"] = views },
            RecordEmbed = new JsonObject { ["$type"] = "app.bsky.embed.images", ["images"] = blobs },
        };
    }

    public FakePost WithExternalLink(string url, string title = "A link") => this with
    {
        Embed = new JsonObject
        {
            ["$type"] = "app.bsky.embed.external#view",
            ["external"] = new JsonObject { ["uri"] = url, ["title"] = title, ["description"] = "" },
        },
        RecordEmbed = new JsonObject
        {
            ["$type"] = "app.bsky.embed.external",
            ["external"] = new JsonObject { ["uri"] = url, ["title"] = title, ["description"] = "" },
        },
    };

    /// <summary>Renders the postView with the lexicon's field names and the AppView's key order.</summary>
    public JsonObject ToPostView()
    {
        var author = new JsonObject { ["did"] = AuthorDid, ["handle"] = AuthorHandle };
        if (AuthorDisplayName is not null)
        {
            author["displayName"] = AuthorDisplayName;
        }

        author["labels"] = new JsonArray();

        var record = new JsonObject { ["$type"] = "app.bsky.feed.post", ["createdAt"] = CreatedAt };
        if (RecordEmbed is not null)
        {
            record["embed"] = RecordEmbed.DeepClone();
        }

        if (Langs is not null)
        {
            record["langs"] = new JsonArray(Langs.Select(lang => (JsonNode?)lang).ToArray());
        }

        if (ReplyParentUri is not null)
        {
            record["reply"] = new JsonObject
            {
                ["parent"] = StrongRef(ReplyParentUri),
                ["root"] = StrongRef(ReplyRootUri ?? ReplyParentUri),
            };
        }

        var text = Text;
        if (TextHashtags is { Count: > 0 })
        {
            var facets = new JsonArray();
            foreach (var tag in TextHashtags)
            {
                text += " ";
                var start = Encoding.UTF8.GetByteCount(text);
                text += "#" + tag;
                facets.Add(new JsonObject
                {
                    ["index"] = new JsonObject { ["byteStart"] = start, ["byteEnd"] = Encoding.UTF8.GetByteCount(text) },
                    ["features"] = new JsonArray(new JsonObject { ["$type"] = "app.bsky.richtext.facet#tag", ["tag"] = tag }),
                });
            }
            record["facets"] = facets;
        }

        if (RecordTags is not null)
        {
            record["tags"] = new JsonArray(RecordTags.Select(tag => (JsonNode?)tag).ToArray());
        }

        record["text"] = text;

        var view = new JsonObject
        {
            ["uri"] = Uri,
            ["cid"] = Cid,
            ["author"] = author,
            ["record"] = record,
        };
        if (Embed is not null)
        {
            view["embed"] = Embed.DeepClone();
        }

        view["bookmarkCount"] = BookmarkCount;
        view["replyCount"] = ReplyCount;
        view["repostCount"] = RepostCount;
        view["likeCount"] = LikeCount;
        view["quoteCount"] = QuoteCount;
        view["indexedAt"] = IndexedAt;
        view["labels"] = new JsonArray();
        return view;
    }

    /// <summary>
    /// A well-formed CIDv1 (base32, sha-256) derived from <paramref name="seed"/>: <c>bafyrei…</c> for dag-cbor
    /// records, <c>bafkrei…</c> for raw blobs. Synthetic: not the hash of any real content.
    /// </summary>
    public static string FakeCid(string seed, bool raw = false)
    {
        byte[] prefix = [0x01, raw ? (byte)0x55 : (byte)0x71, 0x12, 0x20]; // version, codec, sha2-256, 32 bytes
        return "b" + Base32([.. prefix, .. SHA256.HashData(Encoding.UTF8.GetBytes(seed))]);
    }

    private static JsonObject StrongRef(string uri) => new() { ["cid"] = FakeCid(uri), ["uri"] = uri };

    // RFC 4648 base32, lower case, no padding: the multibase 'b' encoding used by atproto CIDs.
    private static string Base32(byte[] bytes)
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz234567";
        var text = new StringBuilder((bytes.Length * 8 + 4) / 5);
        int buffer = 0, bits = 0;
        foreach (var b in bytes)
        {
            buffer = ((buffer << 8) | b) & 0xFFFF; // only the unconsumed low bits matter
            bits += 8;
            while (bits >= 5)
            {
                text.Append(alphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }

        if (bits > 0)
        {
            text.Append(alphabet[(buffer << (5 - bits)) & 31]);
        }

        return text.ToString();
    }
}
