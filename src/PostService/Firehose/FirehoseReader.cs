using System.Net;
using System.Net.WebSockets;
using System.Threading.Channels;
using PostService.Atproto;

namespace PostService.Firehose;

/// <summary>Where and how to read: from after <paramref name="Cursor"/> (live when null), skipping the changes of events before <paramref name="NotBefore"/>.</summary>
public sealed record FirehoseReadSpec(string Url, long? Cursor, DateTimeOffset? NotBefore, bool StopWhenLive);

/// <summary>
/// The socket side of the consumer: connects to subscribeRepos, decodes each frame into a <see cref="FirehoseEvent"/>
/// and hands it to the writer through a bounded channel (so it waits when the writer is behind). Reconnects from the
/// last event it read, with jittered backoff, honouring a 429's <c>Retry-After</c>. A frame that is too large or
/// malformed is logged and skipped; an error frame is logged and the connection made again.
/// </summary>
public sealed class FirehoseReader(FirehoseOptions options, FirehoseStatus status, TimeProvider time, ILogger logger)
{
    // With --stop-when-live: a connection with nothing to read for this long has caught up.
    private static readonly TimeSpan IdleIsLive = TimeSpan.FromSeconds(2);

    private readonly FirehoseFrameReader _frames = new(options.MaxFrameBytes);
    private byte[] _buffer = new byte[64 * 1024];

    /// <summary>Reads until cancelled, or until live with <see cref="FirehoseReadSpec.StopWhenLive"/>; completes <paramref name="events"/> either way.</summary>
    public async Task RunAsync(FirehoseReadSpec spec, ChannelWriter<FirehoseEvent> events, CancellationToken cancellationToken)
    {
        var position = new ReadPosition(spec.Cursor);
        var failures = 0;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                TimeSpan? retryAfter = null;
                using var socket = new ClientWebSocket();
                socket.Options.CollectHttpResponseDetails = true;
                try
                {
                    status.Enter(failures == 0 ? FirehoseState.Connecting : FirehoseState.Reconnecting, spec.Url);
                    await socket.ConnectAsync(SubscribeUri(spec.Url, position.Cursor), cancellationToken);
                    status.Enter(FirehoseState.Connected, spec.Url);
                    logger.LogInformation("Connected to {Url} from cursor {Cursor}", spec.Url, position.Cursor?.ToString() ?? "live");
                    var readBefore = position.Read;
                    var live = await ReadMessagesAsync(socket, spec, position, events, cancellationToken);
                    if (live)
                    {
                        return;
                    }
                    failures = position.Read > readBefore ? 0 : failures;
                }
                catch (WebSocketException exception) when (!cancellationToken.IsCancellationRequested)
                {
                    retryAfter = RetryAfter(socket);
                    var why = socket.HttpStatusCode == HttpStatusCode.TooManyRequests ? $"429 Too Many Requests, Retry-After {retryAfter}" : exception.Message;
                    logger.LogWarning("Firehose connection to {Url} failed: {Reason}", spec.Url, why);
                    status.Failed(why);
                }
                catch (Exception exception) when (exception is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
                {
                    logger.LogWarning("Firehose connection to {Url} failed: {Reason}", spec.Url, exception.Message);
                    status.Failed(exception.Message);
                }
                failures++;
                var delay = ReconnectBackoff.Delay(failures, TimeSpan.FromSeconds(options.MaxReconnectDelaySeconds), Random.Shared.NextDouble(), retryAfter);
                status.Enter(FirehoseState.Reconnecting, spec.Url);
                logger.LogInformation("Reconnecting to {Url} in {Delay}", spec.Url, delay);
                await Task.Delay(delay, time, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            events.TryComplete();
        }
    }

    /// <summary>Reads messages until the connection ends (false) or, with --stop-when-live, the stream is live (true).</summary>
    private async Task<bool> ReadMessagesAsync(
        ClientWebSocket socket, FirehoseReadSpec spec, ReadPosition position, ChannelWriter<FirehoseEvent> events, CancellationToken cancellationToken)
    {
        while (true)
        {
            var (length, kind) = await ReceiveAsync(socket, spec.StopWhenLive, cancellationToken);
            switch (kind)
            {
                case Received.Idle:
                    return true;
                case Received.Closed:
                    logger.LogWarning("{Url} closed the connection ({Status} {Description})", spec.Url, socket.CloseStatus, socket.CloseStatusDescription);
                    return false;
                case Received.TooLarge:
                    status.FrameSkipped();
                    logger.LogWarning("Skipped a frame of more than {Max} bytes after cursor {Cursor}", options.MaxFrameBytes, position.Cursor);
                    continue;
            }
            FirehoseEvent? firehoseEvent;
            try
            {
                var message = _frames.Read(_buffer.AsMemory(0, length));
                switch (message)
                {
                    case FirehoseError error:
                        logger.LogWarning("{Url} sent an error frame: {Error} {Message}; reconnecting", spec.Url, error.Error, error.Message);
                        status.Failed($"{error.Error}: {error.Message}");
                        return false;
                    case FirehoseInfo { Name: "OutdatedCursor" } info:
                        logger.LogWarning("Cursor {Cursor} is older than {Url} keeps ({Message}); carrying on from its oldest event", position.Cursor, spec.Url, info.Message);
                        continue;
                    case FirehoseInfo info:
                        logger.LogInformation("{Url} says {Name}: {Message}", spec.Url, info.Name, info.Message);
                        continue;
                }
                firehoseEvent = FirehoseEventMapper.Map(message);
            }
            catch (AtprotoFormatException exception)
            {
                status.FrameSkipped();
                logger.LogWarning("Skipped a malformed frame of {Length} bytes after cursor {Cursor}: {Reason}", length, position.Cursor, exception.Message);
                continue;
            }
            if (firehoseEvent is null || firehoseEvent.Seq <= position.Cursor)
            {
                continue;
            }
            if (spec.NotBefore is { } notBefore)
            {
                if (position.Read == 0 && firehoseEvent.Time > notBefore.AddMinutes(1))
                {
                    logger.LogWarning("{Url} keeps events from {Oldest:O} only, later than the {NotBefore:O} asked for", spec.Url, firehoseEvent.Time, notBefore);
                }
                if (firehoseEvent.Time < notBefore)
                {
                    firehoseEvent = firehoseEvent with { Changes = [] };
                }
            }
            await events.WriteAsync(firehoseEvent, cancellationToken);
            position.Advance(firehoseEvent.Seq);
            if (spec.StopWhenLive && options.LiveLagSeconds > 0 && time.GetUtcNow() - firehoseEvent.Time < TimeSpan.FromSeconds(options.LiveLagSeconds))
            {
                return true;
            }
        }
    }

    private async Task<(int Length, Received Kind)> ReceiveAsync(ClientWebSocket socket, bool stopWhenIdle, CancellationToken cancellationToken)
    {
        var length = 0;
        var tooLarge = false;
        using var idle = stopWhenIdle ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken) : null;
        idle?.CancelAfter(IdleIsLive);
        while (true)
        {
            if (length == _buffer.Length)
            {
                if (_buffer.Length >= options.MaxFrameBytes)
                {
                    // Keep reading to the end of the message, over what was read so far.
                    tooLarge = true;
                    length = 0;
                }
                else
                {
                    Array.Resize(ref _buffer, Math.Min(_buffer.Length * 2, options.MaxFrameBytes));
                }
            }
            ValueWebSocketReceiveResult result;
            try
            {
                result = await socket.ReceiveAsync(_buffer.AsMemory(length), length == 0 && !tooLarge && idle is not null ? idle.Token : cancellationToken);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return (0, Received.Idle);
            }
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return (0, Received.Closed);
            }
            length += result.Count;
            if (length > options.MaxFrameBytes)
            {
                tooLarge = true;
                length = 0;
            }
            if (result.EndOfMessage)
            {
                return tooLarge ? (0, Received.TooLarge) : (length, Received.Message);
            }
        }
    }

    private TimeSpan? RetryAfter(ClientWebSocket socket)
    {
        if (socket.HttpResponseHeaders is not { } headers || !headers.TryGetValue("Retry-After", out var values))
        {
            return null;
        }
        var value = values.FirstOrDefault();
        if (int.TryParse(value, out var seconds))
        {
            return TimeSpan.FromSeconds(seconds);
        }
        return DateTimeOffset.TryParse(value, out var at) ? at - time.GetUtcNow() : null;
    }

    private static Uri SubscribeUri(string url, long? cursor) => new(cursor is { } after ? $"{url}?cursor={after}" : url);

    private enum Received
    {
        Message,
        TooLarge,
        Closed,
        Idle,
    }

    /// <summary>The last event handed to the writer: where a reconnection resumes.</summary>
    private sealed class ReadPosition(long? cursor)
    {
        public long? Cursor { get; private set; } = cursor;

        public long Read { get; private set; }

        public void Advance(long seq)
        {
            Cursor = seq;
            Read++;
        }
    }
}
