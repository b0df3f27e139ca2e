using System.Collections.Concurrent;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace PostService.Tests.Infrastructure;

/// <summary>One binary message the fake sends, and the seq a client's cursor is compared with (malformed frames borrow a neighbour's).</summary>
public sealed record FakeFrame(long Seq, byte[] Bytes);

/// <summary>
/// A subscribeRepos server on loopback: on each connection it sends, as fast as the socket takes them, the frames whose
/// seq is after the client's <c>cursor</c> (all of them without one), then keeps the connection open. It can refuse
/// connections with a status (e.g. 429 with <c>Retry-After</c>) first.
/// </summary>
public sealed class FakeFirehose : IAsyncDisposable
{
    private WebApplication _app = null!;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly ConcurrentQueue<long?> _cursors = new();
    private long _sent;

    private FakeFirehose()
    {
    }

    /// <summary><c>ws://127.0.0.1:port/xrpc/com.atproto.sync.subscribeRepos</c>.</summary>
    public string Url { get; private set; } = "";

    public IReadOnlyList<FakeFrame> Frames { get; set; } = [];

    /// <summary>Connections to refuse before serving, with their status and <c>Retry-After</c> seconds.</summary>
    public ConcurrentQueue<(int Status, int? RetryAfterSeconds)> Refusals { get; } = new();

    /// <summary>Frames sent per second on a connection; 0 (the default): as fast as the socket takes them.</summary>
    public double FramesPerSecond { get; set; }

    /// <summary>Frames sent on the latest connection so far.</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>The cursor of every connection served, in order (null: none given).</summary>
    public IReadOnlyList<long?> Cursors => [.. _cursors];

    public static async Task<FakeFirehose> StartAsync()
    {
        var fake = new FakeFirehose();
        (fake._app, var baseUrl) = await LoopbackServer.StartAsync(app =>
        {
            app.UseWebSockets();
            app.Map("/xrpc/com.atproto.sync.subscribeRepos", fake.ServeAsync);
        }, TimeSpan.FromSeconds(5));
        fake.Url = baseUrl.Replace("http://", "ws://", StringComparison.Ordinal) + "/xrpc/com.atproto.sync.subscribeRepos";
        return fake;
    }

    private async Task ServeAsync(HttpContext http)
    {
        if (Refusals.TryDequeue(out var refusal))
        {
            http.Response.StatusCode = refusal.Status;
            if (refusal.RetryAfterSeconds is { } seconds)
            {
                http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            return;
        }
        if (!http.WebSockets.IsWebSocketRequest)
        {
            http.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        long? cursor = long.TryParse(http.Request.Query["cursor"], out var after) ? after : null;
        _cursors.Enqueue(cursor);
        using var socket = await http.WebSockets.AcceptWebSocketAsync();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, _shutdown.Token);
        try
        {
            Interlocked.Exchange(ref _sent, 0);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            foreach (var frame in Frames.Where(frame => cursor is null || frame.Seq > cursor))
            {
                if (FramesPerSecond > 0 && TimeSpan.FromSeconds(Sent / FramesPerSecond) - clock.Elapsed is { Ticks: > 0 } early)
                {
                    await Task.Delay(early, stop.Token);
                }
                await socket.SendAsync(frame.Bytes, WebSocketMessageType.Binary, endOfMessage: true, stop.Token);
                Interlocked.Increment(ref _sent);
            }
            // Open until the client leaves: a live firehose with nothing new.
            var buffer = new byte[16];
            while (socket.State == WebSocketState.Open)
            {
                var received = await socket.ReceiveAsync(buffer, stop.Token);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or WebSocketException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _shutdown.CancelAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _shutdown.Dispose();
    }
}
