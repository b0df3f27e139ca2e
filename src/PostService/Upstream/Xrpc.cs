using System.Net;
using System.Text.Json;
using System.Threading.RateLimiting;
using Polly.RateLimiting;
using Polly.Timeout;
using Refit;

namespace PostService.Upstream;

/// <summary>What an XRPC call to a PDS, the PLC directory or a handle resolver came to: results, not exceptions.</summary>
public abstract record XrpcResult
{
    private XrpcResult()
    {
    }

    /// <summary>A 2xx answer with its body.</summary>
    public sealed record Answered(string Body) : XrpcResult;

    /// <summary>A non-2xx answer; <paramref name="Error"/> is the XRPC error name (<c>RecordNotFound</c>) when the body has one.</summary>
    public sealed record Rejected(HttpStatusCode Status, string? Error, string? Message) : XrpcResult
    {
        public override string ToString() => $"HTTP {(int)Status}{(Error is null ? "" : " " + Error)}{(Message is null ? "" : ": " + Message)}";
    }

    /// <summary>No answer: the host could not be reached, timed out, or the call budget refused to wait.</summary>
    public sealed record Unreachable(string Reason) : XrpcResult;
}

public static class Xrpc
{
    private const int MaxMessageLength = 300;

    /// <summary>
    /// Runs one Refit call and turns every way it can end, other than the caller's cancellation, into an <see cref="XrpcResult"/>.
    /// </summary>
    public static async Task<XrpcResult> CallAsync(Func<Task<IApiResponse<string>>> call, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await call();
            if (response.IsSuccessStatusCode && response.Content is { } body)
            {
                return new XrpcResult.Answered(body);
            }
            if (response.StatusCode is not { } status)
            {
                // Refit reports a request that got no answer as an error without a status.
                return new XrpcResult.Unreachable(Describe(response.Error?.InnerException ?? response.Error));
            }
            var (error, message) = ErrorOf((response.Error as ApiException)?.Content);
            return new XrpcResult.Rejected(status, error, message);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception exception) when (exception is HttpRequestException or TimeoutRejectedException or RateLimiterRejectedException
                                              or OperationCanceledException or ApiException or InvalidOperationException)
        {
            return new XrpcResult.Unreachable(Describe(exception));
        }
    }

    private static string Describe(Exception? exception) => exception switch
    {
        null => "no answer",
        TimeoutRejectedException or OperationCanceledException => "timed out",
        RateLimiterRejectedException rejected => $"call budget for the host exhausted (retry after {rejected.RetryAfter?.TotalSeconds:0} s)",
        _ => $"{exception.GetType().Name}: {Shorten(exception.Message)}",
    };

    /// <summary>The <c>error</c> and <c>message</c> of an XRPC error body, when it is one.</summary>
    private static (string? Error, string? Message) ErrorOf(string? body)
    {
        if (string.IsNullOrEmpty(body))
        {
            return (null, null);
        }
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            return root.ValueKind != JsonValueKind.Object
                ? (null, Shorten(body))
                : (StringOf(root, "error"), StringOf(root, "message") is { } message ? Shorten(message) : null);
        }
        catch (JsonException)
        {
            return (null, Shorten(body));
        }
    }

    private static string? StringOf(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string Shorten(string text) => text.Length <= MaxMessageLength ? text : text[..MaxMessageLength] + "…";
}
