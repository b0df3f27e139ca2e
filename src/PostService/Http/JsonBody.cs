using System.Text.Json;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;

namespace PostService.Http;

/// <summary>
/// Reads a request body as a JSON document, refusing bodies over a size limit with 413 as soon as the limit is passed
/// (a declared length over it before reading anything), bodies that are not UTF-8 and documents nested deeper than
/// <see cref="MaxDepth"/> with 400.
/// </summary>
public static class JsonBody
{
    /// <summary>A retrieval batch is four levels deep; an item's extra fields may add some, never dozens.</summary>
    public const int MaxDepth = 64;

    private static readonly byte[] Utf8Bom = [0xEF, 0xBB, 0xBF];

    public static async Task<(JsonDocument? Document, ProblemHttpResult? Problem)> ReadAsync(
        HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentType is { } contentType && !contentType.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "Unsupported media type", detail: $"Send the body as application/json, not '{contentType}'."));
        }
        if (request.ContentLength > maxBytes)
        {
            return (null, TooLarge(maxBytes));
        }
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = maxBytes;
        }
        try
        {
            // JsonDocument would buffer the whole body too; reading it first lets the bytes be checked as UTF-8 as a whole.
            await using var bounded = new BoundedReadStream(request.Body, maxBytes);
            using var buffer = new MemoryStream();
            await bounded.CopyToAsync(buffer, cancellationToken);
            ReadOnlyMemory<byte> body = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
            if (body.Span.StartsWith(Utf8Bom))
            {
                body = body[Utf8Bom.Length..];
            }
            if (!Utf8.IsValid(body.Span))
            {
                return (null, TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest,
                    title: "Malformed JSON", detail: "The body is not valid UTF-8."));
            }
            var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = MaxDepth });
            if (UnstorableString(body.Span) is { } unstorable)
            {
                document.Dispose();
                // PostgreSQL cannot store these in text or jsonb; refused on SQLite too, so both stores hold the same.
                return (null, TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Malformed JSON", detail: unstorable));
            }
            return (document, null);
        }
        catch (BodyTooLargeException)
        {
            return (null, TooLarge(maxBytes));
        }
        catch (BadHttpRequestException exception) when (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TooLarge(maxBytes));
        }
        catch (JsonException exception)
        {
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest,
                title: "Malformed JSON", detail: $"The body is not valid JSON: {exception.Message}"));
        }
    }

    /// <summary>
    /// Why a string or property name cannot be stored, if one cannot: it holds U+0000, or an escape that is not
    /// Unicode (an unpaired surrogate). Only escapes can put either there, so only escaped tokens are decoded.
    /// </summary>
    private static string? UnstorableString(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxDepth });
        while (reader.Read())
        {
            if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.PropertyName) || !reader.ValueIsEscaped)
            {
                continue;
            }
            string value;
            try
            {
                value = reader.GetString()!;
            }
            catch (InvalidOperationException)
            {
                return $"The string at byte {reader.TokenStartIndex} of the body is not valid Unicode (an unpaired surrogate escape).";
            }
            if (value.Contains('\0', StringComparison.Ordinal))
            {
                return $"The string at byte {reader.TokenStartIndex} of the body contains U+0000 (\\u0000), which cannot be stored.";
            }
        }
        return null;
    }

    private static ProblemHttpResult TooLarge(long maxBytes) =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Body too large",
            detail: $"The body exceeds the limit of {maxBytes} bytes; send the retrievals in smaller batches.");

    private sealed class BodyTooLargeException : Exception;

    /// <summary>Passes reads through until more than the limit has been read, then throws.</summary>
    private sealed class BoundedReadStream(Stream inner, long maxBytes) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Count(int read)
        {
            _read += read;
            return _read > maxBytes ? throw new BodyTooLargeException() : read;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
