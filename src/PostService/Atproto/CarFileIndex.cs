namespace PostService.Atproto;

/// <summary>
/// Block offsets of a CAR in a seekable stream (a repo saved to a temp file), so a large repo is walked without
/// holding its blocks in memory. Building it reads and verifies every block once; lookups read one block again
/// and check it against its CID a second time, since the file could have changed in between.
/// </summary>
public sealed class CarFileIndex : IBlockSource
{
    private readonly Stream _stream;
    private readonly long _origin;
    private readonly Dictionary<Cid, (long Offset, int Length)> _blocks = [];

    private CarFileIndex(Stream stream, long origin, CarHeader header)
    {
        _stream = stream;
        _origin = origin;
        Header = header;
    }

    public CarHeader Header { get; }

    public int Count => _blocks.Count;

    /// <summary>Indexes the CAR from the stream's current position; the stream must stay open while the index is used.</summary>
    public static async Task<CarFileIndex> BuildAsync(Stream seekableCar, CarReaderOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(seekableCar);
        if (!seekableCar.CanSeek)
        {
            throw new ArgumentException("the CAR stream must be seekable (save it to a file first)", nameof(seekableCar));
        }

        var origin = seekableCar.Position;
        var reader = await CarStreamReader.OpenAsync(seekableCar, options, cancellationToken).ConfigureAwait(false);
        var index = new CarFileIndex(seekableCar, origin, reader.Header);
        while (await reader.ReadBlockAsync(cancellationToken).ConfigureAwait(false) is { } block)
        {
            index._blocks.TryAdd(block.Cid, (block.Offset, block.Data.Length));
        }

        return index;
    }

    public bool TryGetBlock(Cid cid, out ReadOnlyMemory<byte> block)
    {
        if (!_blocks.TryGetValue(cid, out var location))
        {
            block = default;
            return false;
        }

        var bytes = new byte[location.Length];
        _stream.Position = _origin + location.Offset;
        try
        {
            _stream.ReadExactly(bytes);
        }
        catch (EndOfStreamException exception)
        {
            throw new AtprotoFormatException($"CAR file shrank: block {cid} at byte {location.Offset} is no longer there", exception);
        }

        if (!cid.Verify(bytes))
        {
            throw new AtprotoFormatException($"CAR file changed: block at byte {location.Offset} no longer hashes to {cid}");
        }

        block = bytes;
        return true;
    }
}
