namespace PostService.Atproto;

/// <summary>
/// Reads a CAR v1 from a stream section by section (a whole repo from getRepo), holding one section at a time.
/// Each block is a fresh array the caller may keep, checked against its CID.
/// </summary>
public sealed class CarStreamReader
{
    private const int BufferSize = 64 * 1024;

    private readonly Stream _stream;
    private readonly CarReaderOptions _options;
    private readonly byte[] _buffer = new byte[BufferSize];
    private int _start;
    private int _end;
    private long _bufferOffset;

    private CarStreamReader(Stream stream, CarReaderOptions options)
    {
        _stream = stream;
        _options = options;
        Header = new CarHeader([]);
    }

    public CarHeader Header { get; private set; }

    /// <summary>Bytes consumed from the stream so far, relative to where reading started.</summary>
    public long Position => _bufferOffset + _start;

    public static async Task<CarStreamReader> OpenAsync(Stream stream, CarReaderOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var reader = new CarStreamReader(stream, options ?? CarReaderOptions.Default);
        var length = await reader.ReadVarintAsync("header length", cancellationToken).ConfigureAwait(false)
            ?? throw new AtprotoFormatException("CAR is empty");
        var headerLength = CarSection.CheckLength(length, reader._options.MaxHeaderBytes, 0, "header");
        reader.Header = CarHeader.Decode(await reader.ReadExactlyAsync(headerLength, "header", cancellationToken).ConfigureAwait(false));
        return reader;
    }

    /// <summary>The next block, or null at the end of the stream.</summary>
    public async ValueTask<CarBlock?> ReadBlockAsync(CancellationToken cancellationToken)
    {
        var sectionOffset = Position;
        var length = await ReadVarintAsync("section length", cancellationToken).ConfigureAwait(false);
        if (length is null)
        {
            return null;
        }

        var sectionLength = CarSection.CheckLength(length.Value, _options.MaxSectionBytes, sectionOffset, "section");
        var sectionStart = Position;
        var section = await ReadExactlyAsync(sectionLength, "section", cancellationToken).ConfigureAwait(false);
        return CarSection.ToBlock(section, sectionStart);
    }

    /// <summary>A varint, or null when the stream ends cleanly before it.</summary>
    private async ValueTask<ulong?> ReadVarintAsync(string what, CancellationToken cancellationToken)
    {
        await FillAsync(Varint.MaxLength, cancellationToken).ConfigureAwait(false);
        if (_end == _start)
        {
            return null;
        }

        if (!Varint.TryRead(_buffer.AsSpan(_start, _end - _start), out var value, out var length))
        {
            throw new AtprotoFormatException($"CAR truncated in the {what} at byte {Position}");
        }

        _start += length;
        return value;
    }

    private async ValueTask<byte[]> ReadExactlyAsync(int length, string what, CancellationToken cancellationToken)
    {
        var offset = Position;
        var result = new byte[length];
        var fromBuffer = Math.Min(length, _end - _start);
        _buffer.AsSpan(_start, fromBuffer).CopyTo(result);
        _start += fromBuffer;
        var copied = fromBuffer;
        while (copied < length)
        {
            var read = await _stream.ReadAsync(result.AsMemory(copied), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new AtprotoFormatException($"CAR truncated: {what} at byte {offset} needs {length} bytes, stream ended after {copied}");
            }

            copied += read;
            _bufferOffset += read;
        }

        return result;
    }

    /// <summary>Buffers at least <paramref name="count"/> bytes unless the stream ends first.</summary>
    private async ValueTask FillAsync(int count, CancellationToken cancellationToken)
    {
        if (_end - _start >= count)
        {
            return;
        }

        _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
        _bufferOffset += _start;
        _end -= _start;
        _start = 0;
        while (_end < count)
        {
            var read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return;
            }

            _end += read;
        }
    }
}
