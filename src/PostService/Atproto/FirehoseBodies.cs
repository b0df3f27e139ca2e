using System.Formats.Cbor;

namespace PostService.Atproto;

/// <summary>Typed bodies of the small subscribeRepos messages, read field by field; unknown fields are checked and skipped.</summary>
internal static class FirehoseBodies
{
    public static FirehoseIdentity ReadIdentity(CborReader reader)
    {
        const string what = "#identity body";
        long? seq = null;
        string? did = null, time = null, handle = null;
        var count = DagCbor.ReadMapStart(reader, what);
        for (var i = 0; i < count; i++)
        {
            var key = DagCbor.ReadKey(reader, what);
            if (key.SequenceEqual("seq"u8)) seq = DagCbor.ReadInteger(reader, what);
            else if (key.SequenceEqual("did"u8)) did = DagCbor.ReadString(reader, what);
            else if (key.SequenceEqual("time"u8)) time = DagCbor.ReadString(reader, what);
            else if (key.SequenceEqual("handle"u8)) handle = DagCbor.ReadNullableString(reader, what);
            else DagCborReader.SkipValue(reader, what);
        }

        reader.ReadEndMap();
        return new FirehoseIdentity(
            seq ?? throw DagCbor.Missing(what, "seq"),
            did ?? throw DagCbor.Missing(what, "did"),
            time ?? throw DagCbor.Missing(what, "time"),
            handle);
    }

    public static FirehoseAccount ReadAccount(CborReader reader)
    {
        const string what = "#account body";
        long? seq = null;
        string? did = null, time = null, status = null;
        bool? active = null;
        var count = DagCbor.ReadMapStart(reader, what);
        for (var i = 0; i < count; i++)
        {
            var key = DagCbor.ReadKey(reader, what);
            if (key.SequenceEqual("seq"u8)) seq = DagCbor.ReadInteger(reader, what);
            else if (key.SequenceEqual("did"u8)) did = DagCbor.ReadString(reader, what);
            else if (key.SequenceEqual("time"u8)) time = DagCbor.ReadString(reader, what);
            else if (key.SequenceEqual("active"u8)) active = DagCbor.ReadBoolean(reader, what);
            else if (key.SequenceEqual("status"u8)) status = DagCbor.ReadNullableString(reader, what);
            else DagCborReader.SkipValue(reader, what);
        }

        reader.ReadEndMap();
        return new FirehoseAccount(
            seq ?? throw DagCbor.Missing(what, "seq"),
            did ?? throw DagCbor.Missing(what, "did"),
            time ?? throw DagCbor.Missing(what, "time"),
            active ?? throw DagCbor.Missing(what, "active"),
            status);
    }

    public static FirehoseSync ReadSync(CborReader reader)
    {
        const string what = "#sync body";
        long? seq = null;
        string? did = null, rev = null, time = null;
        ReadOnlyMemory<byte>? blocks = null;
        var count = DagCbor.ReadMapStart(reader, what);
        for (var i = 0; i < count; i++)
        {
            var key = DagCbor.ReadKey(reader, what);
            if (key.SequenceEqual("seq"u8)) seq = DagCbor.ReadInteger(reader, what);
            else if (key.SequenceEqual("did"u8)) did = DagCbor.ReadString(reader, what);
            else if (key.SequenceEqual("blocks"u8)) blocks = DagCbor.ReadBytes(reader, what);
            else if (key.SequenceEqual("rev"u8)) rev = DagCbor.ReadString(reader, what);
            else if (key.SequenceEqual("time"u8)) time = DagCbor.ReadString(reader, what);
            else DagCborReader.SkipValue(reader, what);
        }

        reader.ReadEndMap();
        return new FirehoseSync(
            seq ?? throw DagCbor.Missing(what, "seq"),
            did ?? throw DagCbor.Missing(what, "did"),
            blocks ?? throw DagCbor.Missing(what, "blocks"),
            rev ?? throw DagCbor.Missing(what, "rev"),
            time ?? throw DagCbor.Missing(what, "time"));
    }

    public static FirehoseInfo ReadInfo(CborReader reader)
    {
        var (name, message) = ReadNameAndMessage(reader, "#info body", "name"u8, "name");
        return new FirehoseInfo(name, message);
    }

    public static FirehoseError ReadError(CborReader reader)
    {
        var (error, message) = ReadNameAndMessage(reader, "error body", "error"u8, "error");
        return new FirehoseError(error, message);
    }

    private static (string Name, string? Message) ReadNameAndMessage(CborReader reader, string what, ReadOnlySpan<byte> nameKey, string nameField)
    {
        string? name = null, message = null;
        var count = DagCbor.ReadMapStart(reader, what);
        for (var i = 0; i < count; i++)
        {
            var key = DagCbor.ReadKey(reader, what);
            if (key.SequenceEqual(nameKey)) name = DagCbor.ReadString(reader, what);
            else if (key.SequenceEqual("message"u8)) message = DagCbor.ReadNullableString(reader, what);
            else DagCborReader.SkipValue(reader, what);
        }

        reader.ReadEndMap();
        return (name ?? throw DagCbor.Missing(what, nameField), message);
    }
}
