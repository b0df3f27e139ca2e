using System.Formats.Cbor;

namespace PostService.Atproto;

/// <summary>Typed bodies of subscribeRepos messages, read field by field; unknown fields are checked and skipped.</summary>
internal static class FirehoseBodies
{
    public static FirehoseCommit ReadCommit(CborReader reader)
    {
        const string what = "#commit body";
        long? seq = null;
        bool? rebase = null, tooBig = null;
        string? repo = null, rev = null, since = null, time = null;
        var sawSince = false;
        Cid? commit = null, prevData = null;
        ReadOnlyMemory<byte>? blocks = null;
        List<FirehoseRepoOp>? ops = null;
        List<Cid>? blobs = null;
        var count = DagCbor.ReadMapStart(reader, what);
        for (var i = 0; i < count; i++)
        {
            var key = DagCbor.ReadKey(reader, what);
            if (key.SequenceEqual("seq"u8)) seq = DagCbor.ReadInteger(reader, what);
            else if (key.SequenceEqual("rebase"u8)) rebase = DagCbor.ReadBoolean(reader, what);
            else if (key.SequenceEqual("tooBig"u8)) tooBig = DagCbor.ReadBoolean(reader, what);
            else if (key.SequenceEqual("repo"u8)) repo = DagCbor.ReadString(reader, what);
            else if (key.SequenceEqual("commit"u8)) commit = DagCbor.ReadLink(reader, what);
            else if (key.SequenceEqual("rev"u8)) rev = DagCbor.ReadString(reader, what);
            else if (key.SequenceEqual("since"u8))
            {
                since = DagCbor.ReadNullableString(reader, what);
                sawSince = true;
            }
            else if (key.SequenceEqual("blocks"u8)) blocks = DagCbor.ReadBytes(reader, what);
            else if (key.SequenceEqual("ops"u8)) ops = ReadOps(reader);
            else if (key.SequenceEqual("blobs"u8)) blobs = ReadLinks(reader, what);
            else if (key.SequenceEqual("prevData"u8)) prevData = DagCbor.ReadLink(reader, what);
            else if (key.SequenceEqual("time"u8)) time = DagCbor.ReadString(reader, what);
            else DagCborReader.SkipValue(reader, what);
        }

        reader.ReadEndMap();
        return new FirehoseCommit(
            seq ?? throw DagCbor.Missing(what, "seq"),
            rebase ?? throw DagCbor.Missing(what, "rebase"),
            tooBig ?? throw DagCbor.Missing(what, "tooBig"),
            repo ?? throw DagCbor.Missing(what, "repo"),
            commit ?? throw DagCbor.Missing(what, "commit"),
            rev ?? throw DagCbor.Missing(what, "rev"),
            sawSince ? since : throw DagCbor.Missing(what, "since"),
            blocks ?? throw DagCbor.Missing(what, "blocks"),
            ops ?? throw DagCbor.Missing(what, "ops"),
            blobs ?? throw DagCbor.Missing(what, "blobs"),
            prevData,
            time ?? throw DagCbor.Missing(what, "time"));
    }

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

    private static List<FirehoseRepoOp> ReadOps(CborReader reader)
    {
        const string what = "#commit op";
        var count = DagCbor.ReadArrayStart(reader, what);
        var ops = new List<FirehoseRepoOp>();
        for (var i = 0; i < count; i++)
        {
            string? action = null, path = null;
            Cid? cid = null, prev = null;
            var sawCid = false;
            var fields = DagCbor.ReadMapStart(reader, what);
            for (var f = 0; f < fields; f++)
            {
                var key = DagCbor.ReadKey(reader, what);
                if (key.SequenceEqual("action"u8)) action = DagCbor.ReadString(reader, what);
                else if (key.SequenceEqual("path"u8)) path = DagCbor.ReadString(reader, what);
                else if (key.SequenceEqual("cid"u8))
                {
                    cid = DagCbor.ReadNullableLink(reader, what);
                    sawCid = true;
                }
                else if (key.SequenceEqual("prev"u8)) prev = DagCbor.ReadLink(reader, what);
                else DagCborReader.SkipValue(reader, what);
            }

            reader.ReadEndMap();
            ops.Add(new FirehoseRepoOp(
                action ?? throw DagCbor.Missing(what, "action"),
                path ?? throw DagCbor.Missing(what, "path"),
                sawCid ? cid : throw DagCbor.Missing(what, "cid"),
                prev));
        }

        reader.ReadEndArray();
        return ops;
    }

    private static List<Cid> ReadLinks(CborReader reader, string what)
    {
        var count = DagCbor.ReadArrayStart(reader, what);
        var links = new List<Cid>();
        for (var i = 0; i < count; i++)
        {
            links.Add(DagCbor.ReadLink(reader, what));
        }

        reader.ReadEndArray();
        return links;
    }
}
