using Microsoft.Extensions.Options;
using PostService.Identity;
using PostService.Upstream;
using PostService.Upstream.Pds;

namespace PostService.Backfill;

/// <summary>A downloaded repository in a temporary file (deleted when disposed), or why there is none.</summary>
public sealed record RepoDownload(FileStream? File, long Bytes, string? Failure) : IDisposable
{
    public void Dispose() => File?.Dispose();
}

/// <summary>
/// Downloads <c>com.atproto.sync.getRepo</c> from the PDS the DID document names, streamed to a temporary file and cut
/// off at <see cref="BackfillOptions.MaxRepoBytes"/>, so a repository is never held in memory.
/// </summary>
public sealed class RepoDownloader(IdentityResolver identity, XrpcClientFactory clients, IOptions<BackfillOptions> options)
{
    private const int BufferBytes = 81_920;

    public async Task<RepoDownload> DownloadAsync(string did, CancellationToken cancellationToken)
    {
        var resolution = await identity.ResolveDidAsync(did, cancellationToken);
        if (resolution.Value is not { } document)
        {
            return new RepoDownload(null, 0, resolution.Failure);
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.Value.DownloadTimeoutSeconds));
        var host = document.PdsEndpoint.Authority;
        FileStream? file = null;
        try
        {
            using var response = await clients.Create<IPdsApi>(IPdsApi.ClientName, document.PdsEndpoint).GetRepoAsync(did, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                var error = await response.Content.ReadAsStringAsync(timeout.Token);
                return new RepoDownload(null, 0, $"{host} getRepo: HTTP {(int)response.StatusCode} {(error.Length > 300 ? error[..300] : error)}");
            }
            var directory = options.Value.TempDirectory is { Length: > 0 } configured ? configured : Path.GetTempPath();
            file = new FileStream(Path.Combine(directory, $"postservice-repo-{Guid.NewGuid():N}.car"), FileMode.CreateNew, FileAccess.ReadWrite,
                FileShare.None, BufferBytes, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
            await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
            var buffer = new byte[BufferBytes];
            long total = 0;
            int read;
            while ((read = await body.ReadAsync(buffer, timeout.Token)) > 0)
            {
                total += read;
                if (total > options.Value.MaxRepoBytes)
                {
                    await file.DisposeAsync();
                    return new RepoDownload(null, total, $"{host} getRepo: the repository is larger than {options.Value.MaxRepoBytes:N0} bytes (PostService:Backfill:MaxRepoBytes)");
                }
                await file.WriteAsync(buffer.AsMemory(0, read), timeout.Token);
            }
            file.Position = 0;
            return new RepoDownload(file, total, null);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested
                                          && exception is HttpRequestException or OperationCanceledException or Polly.Timeout.TimeoutRejectedException
                                              or Polly.RateLimiting.RateLimiterRejectedException or IOException)
        {
            if (file is not null)
            {
                await file.DisposeAsync();
            }
            return new RepoDownload(null, 0, $"{host} getRepo: {(exception is OperationCanceledException or Polly.Timeout.TimeoutRejectedException ? "timed out" : exception.Message)}");
        }
    }
}
