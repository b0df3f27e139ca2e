using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace PostService.Tests.Infrastructure;

/// <summary>
/// A real HTTP server on loopback that answers <c>GET /xrpc/app.bsky.feed.getPosts</c> the way the Bluesky AppView
/// does (see shared/atproto/README.md and shared/realappview/README.md), with scriptable faults, optional latency and
/// rate limit, and a log of every call for checking a client's concurrency and pacing.
/// </summary>
/// <remarks>
/// Order of handling: latency, server-side rate limit, next scripted response (a fault, or a rewrite of the normal
/// answer), parameter validation, <see cref="FailWhenContains"/> faults, then the normal answer.
/// </remarks>
public sealed partial class FakeAppView : IAsyncDisposable
{
    public const int MaxUrisPerCall = 25;

    /// <summary>nginx's code for "client closed the request", logged for calls the client abandoned.</summary>
    public const int StatusClientClosedRequest = 499;

    /// <summary>Logged for calls whose connection the fake reset without answering.</summary>
    public const int StatusConnectionReset = 0;

    private const string ParamsError = "Invalid app.bsky.feed.getPosts params: ";

    private WebApplication _app = null!;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly ConcurrentDictionary<string, string> _postViewsByUri = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _handlesByDid = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _faultsByUri = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly List<CallEntry> _calls = [];
    private readonly List<DateTimeOffset> _acceptedStarts = [];
    private RateLimit? _rateLimit;
    private long _latencyTicks;
    private int _postCounter;
    private int _authorCounter;

    private FakeAppView()
    {
    }

    /// <summary>e.g. <c>http://127.0.0.1:41234</c>, without a trailing slash.</summary>
    public string BaseUrl { get; private set; } = "";

    /// <summary>Responses for the next calls, one per call, in order; calls beyond the queue are answered normally.</summary>
    public ConcurrentQueue<FakeResponse> Script { get; } = new();

    /// <summary>Delay added to the start of every call.</summary>
    public TimeSpan Latency
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _latencyTicks));
        set => Interlocked.Exchange(ref _latencyTicks, value.Ticks);
    }

    public static async Task<FakeAppView> StartAsync()
    {
        var fake = new FakeAppView();
        (fake._app, fake.BaseUrl) = await LoopbackServer.StartAsync(
            app => app.MapGet("/xrpc/app.bsky.feed.getPosts", fake.HandleGetPostsAsync), TimeSpan.FromSeconds(5));
        return fake;
    }

    /// <summary>Adds a post with plausible generated data: text "post N", a per-DID handle, a CID, May 2024 timestamps.</summary>
    public FakePost AddPost(string uri) => AddPost(uri, post => post);

    /// <summary>Adds a generated post after <paramref name="customize"/>, e.g. <c>p => p.WithImages() with { LikeCount = 3 }</c>.</summary>
    public FakePost AddPost(string uri, Func<FakePost, FakePost> customize)
    {
        var n = Interlocked.Increment(ref _postCounter);
        var did = AuthorityOf(uri);
        var createdAt = new DateTimeOffset(2024, 5, 2, 14, 0, 0, TimeSpan.Zero).AddMinutes(n).AddMilliseconds(n * 37 % 1000);
        return AddPost(customize(new FakePost
        {
            Uri = uri,
            Cid = FakePost.FakeCid(uri),
            AuthorDid = did,
            AuthorHandle = _handlesByDid.GetOrAdd(did, _ => $"user{Interlocked.Increment(ref _authorCounter)}.test"),
            Text = $"post {n}",
            CreatedAt = Timestamp(createdAt),
            IndexedAt = Timestamp(createdAt.AddMilliseconds(480)),
            Langs = ["en"],
        }));
    }

    /// <summary>Adds (or replaces) a post exactly as given.</summary>
    public FakePost AddPost(FakePost post)
    {
        _postViewsByUri[post.Uri] = post.ToPostView().ToJsonString(FakeResponse.WireJson);
        return post;
    }

    /// <summary>Adds (or replaces) a raw postView, e.g. one from shared/atproto/samples, served verbatim.</summary>
    public void AddPostView(JsonObject postView)
    {
        var uri = postView["uri"]?.GetValue<string>()
            ?? throw new ArgumentException("A postView needs a uri.", nameof(postView));
        _postViewsByUri[uri] = postView.ToJsonString(FakeResponse.WireJson);
    }

    /// <summary>Forgets a post, as after a deletion or takedown: later calls omit it.</summary>
    public bool RemovePost(string uri) => _postViewsByUri.TryRemove(uri, out _);

    /// <summary>Every valid batch that contains <paramref name="uri"/> gets <paramref name="statusCode"/> with an XRPC error body.</summary>
    public void FailWhenContains(string uri, int statusCode) => _faultsByUri[uri] = statusCode;

    /// <summary>
    /// Accepts at most <paramref name="calls"/> calls in any sliding <paramref name="window"/>; beyond that, 429.
    /// Every response then carries <c>RateLimit-*</c> headers, as Bluesky's do.
    /// </summary>
    public void LimitRate(int calls, TimeSpan window, bool withRetryAfter = true)
    {
        lock (_gate)
        {
            _rateLimit = new RateLimit(calls, window, withRetryAfter);
            _acceptedStarts.Clear();
        }
    }

    /// <summary>Snapshot of the calls so far, in arrival order; calls still running have no end or status.</summary>
    public IReadOnlyList<FakeAppViewCall> Calls
    {
        get
        {
            lock (_gate)
            {
                return _calls.Select(call => call.Snapshot()).ToList();
            }
        }
    }

    /// <summary>The most calls that were in progress at the same moment.</summary>
    public int MaxConcurrentCalls
    {
        get
        {
            var events = Calls
                .SelectMany(call => new[] { (At: call.StartedAt, Delta: 1), (At: call.EndedAt ?? DateTimeOffset.MaxValue, Delta: -1) })
                .OrderBy(e => e.At)
                .ThenBy(e => e.Delta); // an end at the same instant as a start does not overlap it
            int current = 0, max = 0;
            foreach (var (_, delta) in events)
            {
                current += delta;
                max = Math.Max(max, current);
            }

            return max;
        }
    }

    /// <summary>The most call starts within any sliding window of length <paramref name="window"/>.</summary>
    public int CallsInAnyWindow(TimeSpan window)
    {
        var starts = Calls.Select(call => call.StartedAt).Order().ToList();
        int max = 0, first = 0;
        for (var last = 0; last < starts.Count; last++)
        {
            while (starts[last] - starts[first] >= window)
            {
                first++;
            }

            max = Math.Max(max, last - first + 1);
        }

        return max;
    }

    /// <summary>URIs that were requested by two calls running at the same time (expected: none).</summary>
    public IReadOnlyList<string> UrisInOverlappingCalls()
    {
        var calls = Calls;
        var offenders = new SortedSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < calls.Count; i++)
        {
            for (var j = i + 1; j < calls.Count; j++)
            {
                if (calls[i].Overlaps(calls[j]))
                {
                    offenders.UnionWith(calls[i].Uris.Intersect(calls[j].Uris, StringComparer.Ordinal));
                }
            }
        }

        return [.. offenders];
    }

    public async ValueTask DisposeAsync()
    {
        await _shutdown.CancelAsync(); // ends hanging calls so shutdown does not wait for them
        await _app.StopAsync();
        await _app.DisposeAsync();
        _shutdown.Dispose();
    }

    private async Task HandleGetPostsAsync(HttpContext http)
    {
        var uris = http.Request.Query["uris"].Select(value => value ?? "").ToList();
        var call = new CallEntry(DateTimeOffset.UtcNow, uris, http.Request.QueryString.Value ?? "");
        lock (_gate)
        {
            _calls.Add(call);
        }

        using var aborted = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, _shutdown.Token);
        var status = 500; // what Kestrel answers if the handler throws
        try
        {
            status = await RespondAsync(http, call, aborted.Token);
        }
        catch (Exception) when (aborted.IsCancellationRequested)
        {
            // The client gave up (e.g. its attempt timed out) or the fake is shutting down.
            status = StatusClientClosedRequest;
        }
        finally
        {
            lock (_gate)
            {
                call.End(DateTimeOffset.UtcNow, status);
            }
        }
    }

    private async Task<int> RespondAsync(HttpContext http, CallEntry call, CancellationToken cancellationToken)
    {
        if (Latency > TimeSpan.Zero)
        {
            await Task.Delay(Latency, cancellationToken);
        }

        var (allowed, rateLimitHeaders) = CheckRateLimit(call.StartedAt);
        if (!allowed)
        {
            return await WriteAsync(http, FakeResponse.Status(429), rateLimitHeaders, cancellationToken);
        }

        if (!Script.TryDequeue(out var scripted))
        {
            return await WriteAsync(http, Answer(call.Uris), rateLimitHeaders, cancellationToken);
        }

        await Task.Delay(scripted.Delay, cancellationToken);
        if (scripted.ResetsConnection)
        {
            http.Abort();
            return StatusConnectionReset;
        }
        if (scripted.StatusCode is not null)
        {
            return await WriteAsync(http, scripted, rateLimitHeaders, cancellationToken);
        }
        var answer = Answer(call.Uris);
        if (scripted.Rewrite is { } rewrite && answer is { StatusCode: 200, Body: { } body })
        {
            answer = answer with { Body = rewrite(JsonNode.Parse(body)!.AsObject()).ToJsonString(FakeResponse.WireJson) };
        }
        return await WriteAsync(http, answer, rateLimitHeaders, cancellationToken);
    }

    /// <summary>The AppView's own answer: lexicon validation, then the posts it knows, in request order.</summary>
    private FakeResponse Answer(IReadOnlyList<string> uris)
    {
        if (uris.All(string.IsNullOrEmpty))
        {
            return FakeResponse.Status(400, "InvalidRequest", ParamsError + "Missing required key \"uris\"");
        }

        // The lexicon's maxLength applies to the raw list, before duplicates are removed.
        if (uris.Count > MaxUrisPerCall)
        {
            return FakeResponse.Status(400, "InvalidRequest", ParamsError + $"array too big (maximum {MaxUrisPerCall}, got {uris.Count})");
        }

        if (uris.FirstOrDefault(uri => !IsAtUri(uri)) is { } invalid)
        {
            return FakeResponse.Status(400, "InvalidRequest", ParamsError + $"Invalid at-uri (got \"{invalid}\")");
        }

        // Syntactically fine, but the AppView fails the whole batch ("AtUri ... does not have a DID hostname").
        if (uris.Any(uri => !AuthorityOf(uri).StartsWith("did:", StringComparison.Ordinal)))
        {
            return FakeResponse.Status(500);
        }

        foreach (var uri in uris)
        {
            if (_faultsByUri.TryGetValue(uri, out var fault))
            {
                return FakeResponse.Status(fault);
            }
        }

        // Unknown, deleted, taken-down or blocked posts are left out without any error.
        var posts = uris.Distinct(StringComparer.Ordinal)
            .Select(uri => _postViewsByUri.TryGetValue(uri, out var view) ? view : null)
            .OfType<string>();
        return FakeResponse.Json(200, $$"""{"posts":[{{string.Join(",", posts)}}]}""");
    }

    private static async Task<int> WriteAsync(
        HttpContext http, FakeResponse response, IReadOnlyDictionary<string, string> extraHeaders, CancellationToken cancellationToken)
    {
        var status = response.StatusCode ?? 200;
        http.Response.StatusCode = status;
        foreach (var (name, value) in extraHeaders.Concat(response.Headers))
        {
            http.Response.Headers[name] = value; // scripted headers win over the rate limiter's
        }

        http.Response.ContentType = "application/json; charset=utf-8";
        await http.Response.WriteAsync(response.Body ?? "", cancellationToken);
        return status;
    }

    private (bool Allowed, IReadOnlyDictionary<string, string> Headers) CheckRateLimit(DateTimeOffset now)
    {
        lock (_gate)
        {
            if (_rateLimit is not { } limit)
            {
                return (true, new Dictionary<string, string>());
            }

            _acceptedStarts.RemoveAll(start => now - start >= limit.Window);
            var allowed = _acceptedStarts.Count < limit.Calls;
            if (allowed)
            {
                _acceptedStarts.Add(now);
            }

            var reset = _acceptedStarts.Count > 0 ? _acceptedStarts[0] + limit.Window : now + limit.Window;
            var headers = new Dictionary<string, string>
            {
                ["RateLimit-Limit"] = Invariant(limit.Calls),
                ["RateLimit-Remaining"] = Invariant(limit.Calls - _acceptedStarts.Count),
                ["RateLimit-Reset"] = Invariant((long)Math.Ceiling(reset.ToUnixTimeMilliseconds() / 1000.0)),
                ["RateLimit-Policy"] = $"{limit.Calls};w={Invariant((long)Math.Ceiling(limit.Window.TotalSeconds))}",
            };
            if (!allowed && limit.WithRetryAfter)
            {
                headers["Retry-After"] = Invariant((long)Math.Ceiling((reset - now).TotalSeconds));
            }

            return (allowed, headers);
        }
    }

    private static string AuthorityOf(string uri) =>
        uri.StartsWith("at://", StringComparison.Ordinal) ? uri[5..].Split('/', '?', '#')[0] : "";

    // atproto at-uri syntax: authority (DID or handle), optional NSID collection and record key.
    private static bool IsAtUri(string uri)
    {
        if (uri.Length > 8 * 1024 || AtUriPattern().Match(uri) is not { Success: true } match)
        {
            return false;
        }

        var authority = match.Groups["authority"].Value;
        return DidPattern().IsMatch(authority) || HandlePattern().IsMatch(authority);
    }

    [GeneratedRegex(@"^at://(?<authority>[a-zA-Z0-9._:%-]+)(/(?<collection>[a-zA-Z0-9-.]+)(/(?<rkey>[a-zA-Z0-9._~:@!$&%')(*+,;=-]+))?)?$")]
    private static partial Regex AtUriPattern();

    [GeneratedRegex(@"^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$")]
    private static partial Regex DidPattern();

    [GeneratedRegex(@"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$")]
    private static partial Regex HandlePattern();

    private static string Timestamp(DateTimeOffset at) =>
        at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);

    private sealed record RateLimit(int Calls, TimeSpan Window, bool WithRetryAfter);

    /// <summary>Mutable log entry; only touched under <see cref="_gate"/>.</summary>
    private sealed class CallEntry(DateTimeOffset startedAt, IReadOnlyList<string> uris, string rawQuery)
    {
        private DateTimeOffset? _endedAt;
        private int? _status;

        public DateTimeOffset StartedAt { get; } = startedAt;
        public IReadOnlyList<string> Uris { get; } = uris;

        public void End(DateTimeOffset at, int status) => (_endedAt, _status) = (at, status);

        public FakeAppViewCall Snapshot() => new(StartedAt, _endedAt, Uris, rawQuery, _status);
    }
}

/// <summary>One call as the fake saw it. Times are UTC; <see cref="RawQuery"/> is as sent, including the leading '?'.</summary>
public sealed record FakeAppViewCall(
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    IReadOnlyList<string> Uris,
    string RawQuery,
    int? Status)
{
    // The fake sees a call the client gave up on end only when it notices the closed connection, which on a busy
    // machine can be after the client's retry of the same URIs has started: such a call ended up to this much earlier.
    private static readonly TimeSpan AbortNoticedLate = TimeSpan.FromMilliseconds(500);

    public bool Overlaps(FakeAppViewCall other) => StartedAt < other.EndedBy && other.StartedAt < EndedBy;

    private DateTimeOffset EndedBy => EndedAt is not { } ended ? DateTimeOffset.MaxValue
        : Status == FakeAppView.StatusClientClosedRequest ? ended - AbortNoticedLate : ended;
}
