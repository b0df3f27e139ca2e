using System.Buffers.Binary;
using System.Formats.Cbor;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PostService.Atproto;

namespace PostService.Bench;

/// <summary>One frame of a scaled stream: its bytes, its seq, and the posts it creates.</summary>
internal sealed record ScaledFrame(long Seq, byte[] Bytes, IReadOnlyList<string> PostUris);

/// <summary>
/// The benchmark's input: frames recorded from a real PDS firehose (<c>?cursor=0</c>, every event it keeps), saved as
/// length-prefixed messages, and scaled up by copying the stream with every DID rewritten (so each copy's posts,
/// likes and handles are new) and record blocks re-encoded under their new CIDs.
/// </summary>
internal static partial class FirehoseRecording
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(3);

    /// <summary>Records every frame <paramref name="url"/> replays from cursor 0 into <paramref name="path"/>; returns how many.</summary>
    public static async Task<int> RecordAsync(string url, string path)
    {
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri(url + "?cursor=0"), CancellationToken.None);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await using var output = File.Create(path);
        var buffer = new byte[8 * 1024 * 1024];
        var count = 0;
        while (true)
        {
            var length = 0;
            using var idle = new CancellationTokenSource(Idle);
            try
            {
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer.AsMemory(length), idle.Token);
                    length += result.Count;
                }
                while (!result.EndOfMessage);
            }
            catch (OperationCanceledException)
            {
                return count;
            }
            var prefix = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(prefix, length);
            output.Write(prefix);
            output.Write(buffer, 0, length);
            count++;
        }
    }

    public static List<byte[]> Load(string path)
    {
        var data = File.ReadAllBytes(path);
        var frames = new List<byte[]>();
        for (var offset = 0; offset < data.Length;)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(offset));
            frames.Add(data.AsSpan(offset + 4, length).ToArray());
            offset += 4 + length;
        }
        return frames;
    }

    /// <summary>
    /// <paramref name="copies"/> copies of the recorded stream one after another, seqs renumbered from 1. Frames that
    /// carry no sequenced event (#info) are left out.
    /// </summary>
    public static List<ScaledFrame> Scale(IReadOnlyList<byte[]> recorded, int copies)
    {
        var scaled = new List<ScaledFrame>(recorded.Count * copies);
        var seq = 0L;
        for (var copy = 0; copy < copies; copy++)
        {
            foreach (var frame in recorded)
            {
                if (Rewrite(frame, copy, seq + 1) is { } rewritten)
                {
                    scaled.Add(rewritten);
                    seq++;
                }
            }
        }
        return scaled;
    }

    private static ScaledFrame? Rewrite(byte[] frame, int copy, long seq)
    {
        var reader = new CborReader(frame, CborConformanceMode.Canonical, allowMultipleRootLevelValues: true);
        var header = reader.ReadEncodedValue();
        if (DagCborReader.ReadJson(header) is not JsonObject { } headerMap || headerMap["op"]?.GetValue<long>() != 1
            || DagCborReader.ReadJson(frame.AsMemory(frame.Length - reader.BytesRemaining)) is not JsonObject body || body["seq"] is null)
        {
            return null;
        }
        string NewDid(string text) => DidPattern().Replace(text, match => match.Value[..^5] + Suffix(copy));
        RewriteStrings(body, NewDid);
        body["seq"] = seq;
        if (body["handle"] is JsonValue handle && handle.GetValue<string>() is { } name && name.IndexOf('.', StringComparison.Ordinal) is > 0 and var dot)
        {
            body["handle"] = name.Insert(dot, "-" + Suffix(copy));
        }
        var posts = new List<string>();
        if (body["blocks"] is JsonObject { } blocksField && body["ops"] is JsonArray ops && body["repo"] is JsonValue repo)
        {
            var car = Convert.FromBase64String(DagCborWriter.Padded(blocksField["$bytes"]!.GetValue<string>()));
            var reading = new CarReader(car);
            var blocks = new List<(Cid Cid, ReadOnlyMemory<byte> Data)>();
            while (reading.TryReadBlock(out var block))
            {
                blocks.Add((block.Cid, block.Data));
            }
            foreach (var op in ops.OfType<JsonObject>())
            {
                if (op["cid"] is not JsonObject link || Cid.Parse(link["$link"]!.GetValue<string>()) is not { } old)
                {
                    continue;
                }
                var index = blocks.FindIndex(block => block.Cid == old);
                if (index < 0)
                {
                    continue;
                }
                var record = DagCborReader.ReadJson(blocks[index].Data)!;
                RewriteStrings(record, NewDid);
                var encoded = DagCborWriter.Encode(record);
                var cid = Cid.Compute(Cid.DagCborCodec, encoded);
                blocks[index] = (cid, encoded);
                op["cid"] = DagCborWriter.Link(cid);
                var path = op["path"]!.GetValue<string>();
                if (op["action"]!.GetValue<string>() == "create" && path.StartsWith("app.bsky.feed.post/", StringComparison.Ordinal))
                {
                    posts.Add($"at://{repo.GetValue<string>()}/{path}");
                }
            }
            body["blocks"] = new JsonObject { ["$bytes"] = Convert.ToBase64String(DagCborWriter.Car(reading.Header.Roots, blocks)) };
        }
        return new ScaledFrame(seq, [.. header.Span, .. DagCborWriter.Encode(body)], posts);
    }

    /// <summary>Applies <paramref name="rewrite"/> to every string in <paramref name="node"/>, leaving links and bytes alone.</summary>
    private static void RewriteStrings(JsonNode? node, Func<string, string> rewrite)
    {
        switch (node)
        {
            case JsonObject map when map.ContainsKey("$link") || map.ContainsKey("$bytes"):
                return;
            case JsonObject map:
                foreach (var key in map.Select(pair => pair.Key).ToList())
                {
                    if (map[key] is JsonValue value && value.GetValueKind() == JsonValueKind.String)
                    {
                        map[key] = rewrite(value.GetValue<string>());
                    }
                    else
                    {
                        RewriteStrings(map[key], rewrite);
                    }
                }
                return;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    if (array[i] is JsonValue value && value.GetValueKind() == JsonValueKind.String)
                    {
                        array[i] = rewrite(value.GetValue<string>());
                    }
                    else
                    {
                        RewriteStrings(array[i], rewrite);
                    }
                }
                return;
        }
    }

    private static string Suffix(int copy)
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz234567";
        Span<char> chars = stackalloc char[5];
        for (var i = 4; i >= 0; i--, copy /= 32)
        {
            chars[i] = alphabet[copy % 32];
        }
        return new string(chars);
    }

    [GeneratedRegex("did:plc:[a-z2-7]{24}")]
    private static partial Regex DidPattern();
}
