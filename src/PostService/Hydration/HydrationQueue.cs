using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace PostService.Hydration;

/// <summary>
/// A bounded hint of URIs that ingestion has just stored as <c>pending</c>. The database row is the truth; when the
/// queue is full the URI is simply not queued and the worker's sweep of the database finds it instead.
/// </summary>
public sealed class HydrationQueue(IOptions<HydrationOptions> options)
{
    private readonly Channel<string> _channel = Channel.CreateBounded<string>(new BoundedChannelOptions(options.Value.QueueCapacity)
    {
        FullMode = BoundedChannelFullMode.Wait,
        SingleReader = true,
    });

    public ChannelReader<string> Reader => _channel.Reader;

    public int Depth => _channel.Reader.Count;

    /// <summary>Never blocks: false when the queue is full.</summary>
    public bool TryEnqueue(string postUri) => _channel.Writer.TryWrite(postUri);
}
