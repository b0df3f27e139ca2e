using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PostService.Tests.Infrastructure;

/// <summary>
/// A scripted answer for one call to <see cref="FakeAppView"/>, queued in <see cref="FakeAppView.Script"/>.
/// A null <see cref="StatusCode"/> means "after <see cref="Delay"/>, answer as the AppView normally would", with
/// <see cref="Rewrite"/> applied to a normal 200 body if given.
/// </summary>
public sealed record FakeResponse
{
    public int? StatusCode { get; init; }
    public string? Body { get; init; }
    public TimeSpan Delay { get; init; }
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>Drop the connection without an answer (<c>HttpContext.Abort</c>), after <see cref="Delay"/>.</summary>
    public bool ResetsConnection { get; init; }

    /// <summary>Changes the normal answer's body (a getPosts output) before it is sent.</summary>
    public Func<JsonObject, JsonObject>? Rewrite { get; init; }

    /// <summary>An XRPC error: <c>{"error": ..., "message": ...}</c>, with the AppView's wording by default.</summary>
    public static FakeResponse Status(int statusCode, string? error = null, string? message = null)
    {
        var (defaultError, defaultMessage) = statusCode switch
        {
            400 => ("InvalidRequest", "Invalid Request"),
            401 => ("AuthenticationRequired", "Authentication Required"),
            429 => ("RateLimitExceeded", "Rate Limit Exceeded"),
            501 => ("MethodNotImplemented", "Method Not Implemented"),
            502 => ("UpstreamFailure", "Upstream Failure"),
            503 => ("NotEnoughResources", "Not Enough Resources"),
            504 => ("UpstreamTimeout", "Upstream Timeout"),
            _ => ("InternalServerError", "Internal Server Error"),
        };
        return Json(statusCode, ErrorBody(error ?? defaultError, message ?? defaultMessage));
    }

    /// <summary>
    /// HTTP 429. <paramref name="withHeaders"/> adds <c>RateLimit-Limit/Remaining(0)/Reset(epoch s)/Policy</c>;
    /// <paramref name="withRetryAfter"/> adds <c>Retry-After</c> in seconds. Both off gives a bare 429.
    /// </summary>
    public static FakeResponse RateLimited(int retryAfterSeconds, bool withHeaders = true, bool withRetryAfter = true)
    {
        var headers = new Dictionary<string, string>();
        if (withRetryAfter)
        {
            headers["Retry-After"] = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        }

        if (withHeaders)
        {
            var reset = DateTimeOffset.UtcNow.AddSeconds(retryAfterSeconds).ToUnixTimeSeconds();
            headers["RateLimit-Limit"] = "3000";
            headers["RateLimit-Remaining"] = "0";
            headers["RateLimit-Reset"] = reset.ToString(CultureInfo.InvariantCulture);
            headers["RateLimit-Policy"] = "3000;w=300";
        }

        return Status(429) with { Headers = headers };
    }

    /// <summary>A 200 whose body is cut off mid-JSON, as when a proxy drops the connection.</summary>
    public static FakeResponse Garbage() =>
        Json(200, """{"posts":[{"uri":"at://did:plc:w6bi6bljjbl67ox3fucssffl/app.bsky.feed.post/3krj6c5""");

    /// <summary>A 200 whose body is not JSON at all, as from a misconfigured proxy.</summary>
    public static FakeResponse InvalidJson() => Json(200, "<html><body>502 Bad Gateway</body></html>");

    /// <summary>The connection is reset before any answer.</summary>
    public static FakeResponse ConnectionReset() => new() { ResetsConnection = true };

    /// <summary>The normal answer, with fields no lexicon version has, at the top level and in every post.</summary>
    public static FakeResponse WithUnknownFields() => new()
    {
        Rewrite = output =>
        {
            output["somethingNew"] = new JsonObject { ["nested"] = new JsonArray(1, 2, 3) };
            foreach (var post in Posts(output))
            {
                post["futureField"] = true;
                post["author"]!["pronouns"] = "they/them";
            }
            return output;
        },
    };

    /// <summary>
    /// The normal answer plus those of <paramref name="posts"/> this call did not ask for (a URI it asked for is in
    /// the answer already), put first so that matching by position would take them.
    /// </summary>
    public static FakeResponse WithUnrequestedPosts(params FakePost[] posts) => new()
    {
        Rewrite = output =>
        {
            var array = output["posts"]!.AsArray();
            var answered = Posts(output).Select(post => (string?)post["uri"]).ToHashSet();
            foreach (var post in posts.Where(post => !answered.Contains(post.Uri)))
            {
                array.Insert(0, post.ToPostView());
            }
            return output;
        },
    };

    /// <summary>The normal answer with every post twice, the copy after the original and with <paramref name="copyText"/>.</summary>
    public static FakeResponse WithDuplicatePosts(string copyText) => new()
    {
        Rewrite = output =>
        {
            var array = output["posts"]!.AsArray();
            foreach (var post in Posts(output).ToList())
            {
                var copy = post.DeepClone().AsObject();
                copy["record"]!["text"] = copyText;
                array.Insert(array.IndexOf(post) + 1, copy);
            }
            return output;
        },
    };

    /// <summary>Waits <paramref name="duration"/> before answering normally (or until the client gives up).</summary>
    public static FakeResponse Hang(TimeSpan duration) => new() { Delay = duration };

    public static FakeResponse Json(int statusCode, string body) => new() { StatusCode = statusCode, Body = body };

    public FakeResponse WithHeader(string name, string value) =>
        this with { Headers = new Dictionary<string, string>(Headers) { [name] = value } };

    /// <summary>Like the AppView, escapes only what JSON requires (a quote is <c>\"</c>, not <c>\u0022</c>).</summary>
    internal static JsonSerializerOptions WireJson { get; } = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static IEnumerable<JsonObject> Posts(JsonObject output) => output["posts"]!.AsArray().OfType<JsonObject>();

    private static string ErrorBody(string error, string message) =>
        new JsonObject { ["error"] = error, ["message"] = message }.ToJsonString(WireJson);
}
