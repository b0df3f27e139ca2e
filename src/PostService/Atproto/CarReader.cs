namespace PostService.Atproto;

/// <summary>
/// Reads a CAR v1 held in memory (a firehose <c>blocks</c> field): header, then sections to the end. Blocks are
/// slices of the input, not copies, and each is checked against its CID.
/// </summary>
public sealed class CarReader
{
    private readonly ReadOnlyMemory<byte> _car;
    private readonly CarReaderOptions _options;
    private int _position;

    public CarReader(ReadOnlyMemory<byte> car, CarReaderOptions? options = null)
    {
        _car = car;
        _options = options ?? CarReaderOptions.Default;
        var headerLength = CarSection.CheckLength(ReadVarint("header length"), _options.MaxHeaderBytes, 0, "header");
        Header = CarHeader.Decode(Take(headerLength, "header"));
    }

    public CarHeader Header { get; }

    /// <summary>The next section, or false at the end of the input.</summary>
    public bool TryReadBlock(out CarBlock block)
    {
        if (_position == _car.Length)
        {
            block = default;
            return false;
        }

        var sectionOffset = _position;
        var length = CarSection.CheckLength(ReadVarint("section length"), _options.MaxSectionBytes, sectionOffset, "section");
        var section = Take(length, "section");
        block = CarSection.ToBlock(section, _position - length);
        return true;
    }

    /// <summary>All blocks of a CAR in memory, by CID; the first copy wins if one repeats.</summary>
    public static CarBlockMap ReadAll(ReadOnlyMemory<byte> car, CarReaderOptions? options = null)
    {
        var reader = new CarReader(car, options);
        var map = new CarBlockMap(reader.Header);
        while (reader.TryReadBlock(out var block))
        {
            map.TryAdd(block.Cid, block.Data);
        }

        return map;
    }

    private ulong ReadVarint(string what)
    {
        if (!Varint.TryRead(_car.Span[_position..], out var value, out var length))
        {
            throw new AtprotoFormatException($"CAR truncated in the {what} at byte {_position}");
        }

        _position += length;
        return value;
    }

    private ReadOnlyMemory<byte> Take(int length, string what)
    {
        if (length > _car.Length - _position)
        {
            throw new AtprotoFormatException($"CAR truncated: {what} at byte {_position} needs {length} bytes, {_car.Length - _position} left");
        }

        var slice = _car.Slice(_position, length);
        _position += length;
        return slice;
    }
}
