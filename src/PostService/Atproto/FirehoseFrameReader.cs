using System.Formats.Cbor;

namespace PostService.Atproto;

/// <summary>
/// Decodes one binary subscribeRepos WebSocket message: a DAG-CBOR header <c>{op, t}</c> then a DAG-CBOR body,
/// nothing after. Byte fields in the result are slices of the frame, so keep the frame while using them.
/// </summary>
public sealed class FirehoseFrameReader
{
    public const int DefaultMaxFrameBytes = 5 * 1024 * 1024;

    private const string What = "firehose frame";

    private readonly int _maxFrameBytes;

    public FirehoseFrameReader(int maxFrameBytes = DefaultMaxFrameBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxFrameBytes);
        _maxFrameBytes = maxFrameBytes;
    }

    public FirehoseMessage Read(ReadOnlyMemory<byte> frame)
    {
        if (frame.Length > _maxFrameBytes)
        {
            throw new AtprotoFormatException($"{What} of {frame.Length} bytes exceeds the {_maxFrameBytes}-byte limit");
        }

        var reader = DagCbor.CreateReader(frame, allowMultipleRootLevelValues: true);
        try
        {
            var message = ReadMessage(reader);
            DagCbor.ExpectEnd(reader, What);
            return message;
        }
        catch (Exception exception) when (DagCbor.IsReaderFailure(exception))
        {
            throw DagCbor.Failure(What, reader, frame.Length, exception);
        }
    }

    private static FirehoseMessage ReadMessage(CborReader reader)
    {
        long? op = null;
        string? type = null;
        var count = DagCbor.ReadMapStart(reader, "frame header");
        for (var i = 0; i < count; i++)
        {
            var key = DagCbor.ReadKey(reader, "frame header");
            if (key.SequenceEqual("op"u8)) op = DagCbor.ReadInteger(reader, "frame header");
            else if (key.SequenceEqual("t"u8)) type = DagCbor.ReadString(reader, "frame header");
            else DagCborReader.SkipValue(reader, "frame header");
        }

        reader.ReadEndMap();
        return op switch
        {
            null => throw new AtprotoFormatException("frame header: op is missing"),
            -1 => FirehoseBodies.ReadError(reader),
            1 => type switch
            {
                null => throw new AtprotoFormatException("frame header: op 1 without t"),
                "#commit" => FirehoseCommitBody.Read(reader),
                "#identity" => FirehoseBodies.ReadIdentity(reader),
                "#account" => FirehoseBodies.ReadAccount(reader),
                "#sync" => FirehoseBodies.ReadSync(reader),
                "#info" => FirehoseBodies.ReadInfo(reader),
                _ => SkipUnknown(reader, op.Value, type),
            },
            _ => SkipUnknown(reader, op.Value, type),
        };
    }

    private static FirehoseUnknown SkipUnknown(CborReader reader, long op, string? type)
    {
        const string what = "unknown frame body";
        if (reader.PeekState() != CborReaderState.StartMap)
        {
            throw new AtprotoFormatException($"{what}: expected a map, found {reader.PeekState()}");
        }

        DagCborReader.SkipValue(reader, what);
        return new FirehoseUnknown(op, type);
    }
}
