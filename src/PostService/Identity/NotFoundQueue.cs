using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace PostService.Identity;

/// <summary>
/// Posts hydration has just marked <c>not_found</c>, waiting for <see cref="NotFoundExplanationWorker"/> to ask their PDS
/// why: off the hydration call, so a slow or unreachable PDS never holds a call slot. Only a hint: a post dropped
/// when the queue is full, or lost with the process, is found by the worker's sweep of unexplained posts.
/// </summary>
public sealed class NotFoundQueue(IOptions<IdentityOptions> options)
{
    private const int Capacity = 10_000;

    private readonly Channel<string> _uris = Channel.CreateBounded<string>(
        new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    public ChannelReader<string> Reader => _uris.Reader;

    public void Enqueue(IEnumerable<string> uris)
    {
        if (!options.Value.ExplainNotFound)
        {
            return;
        }
        foreach (var uri in uris)
        {
            _uris.Writer.TryWrite(uri);
        }
    }
}
