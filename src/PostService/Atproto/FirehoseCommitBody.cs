using System.Formats.Cbor;

namespace PostService.Atproto;

/// <summary>The <c>#commit</c> body with its ops and blob links; unknown fields are checked and skipped.</summary>
internal static class FirehoseCommitBody
{
    public static FirehoseCommit Read(CborReader reader)
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
