namespace PostService.Upstream;

/// <summary>
/// Inside the pipeline, once per attempt: reads the whole body, so a stalled body hits the attempt timeout and a
/// body the retry finds unusable can still be read by the caller.
/// </summary>
internal sealed class BufferedContentHandler : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        try
        {
            await response.Content.LoadIntoBufferAsync(cancellationToken);
            return response;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }
}
