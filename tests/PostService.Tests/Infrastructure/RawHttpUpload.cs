using System.Net.Sockets;
using System.Text;

namespace PostService.Tests.Infrastructure;

/// <summary>
/// An HTTP/1.1 POST over a plain socket that keeps sending a large body only until the server answers, the way a
/// client reads an early 413; HttpClient instead fails with a broken pipe when the server stops reading.
/// </summary>
public static class RawHttpUpload
{
    public sealed record Answer(int Status, string Head, string Body, long BytesSent);

    /// <param name="declaresLength">Send a Content-Length; otherwise the body goes chunked.</param>
    public static async Task<Answer> PostAsync(Uri baseAddress, string path, long bodyBytes, bool declaresLength, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(baseAddress.Host, baseAddress.Port, cancel.Token);
        var stream = tcp.GetStream();
        var framing = declaresLength ? $"Content-Length: {bodyBytes}" : "Transfer-Encoding: chunked";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST {path} HTTP/1.1\r\nHost: {baseAddress.Authority}\r\nContent-Type: application/json\r\n{framing}\r\n\r\n"), cancel.Token);

        var reading = ReadAnswerAsync(stream, cancel.Token);
        var sent = 0L;
        var spaces = Encoding.ASCII.GetBytes(new string(' ', 64 * 1024));
        try
        {
            while (sent < bodyBytes && !reading.IsCompleted)
            {
                var next = (int)Math.Min(spaces.Length, bodyBytes - sent);
                if (!declaresLength)
                {
                    await stream.WriteAsync(Encoding.ASCII.GetBytes($"{next:x}\r\n"), cancel.Token);
                }
                await stream.WriteAsync(spaces.AsMemory(0, next), cancel.Token);
                if (!declaresLength)
                {
                    await stream.WriteAsync("\r\n"u8.ToArray(), cancel.Token);
                }
                sent += next;
            }
        }
        catch (IOException)
        {
            // The server closed the connection after answering.
        }
        var (head, body) = await reading;
        var status = int.Parse(head.Split(' ')[1]);
        return new Answer(status, head, body, sent);
    }

    /// <summary>The head and body of the answer; the body is read until its length, the chunked end, or the connection closes.</summary>
    private static async Task<(string Head, string Body)> ReadAnswerAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var received = new StringBuilder();
        var buffer = new byte[16 * 1024];
        while (true)
        {
            int read;
            try
            {
                read = await stream.ReadAsync(buffer, cancellationToken);
            }
            catch (IOException)
            {
                read = 0;
            }
            received.Append(Encoding.UTF8.GetString(buffer, 0, read));
            var text = received.ToString();
            var headEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (headEnd >= 0)
            {
                var head = text[..headEnd];
                var body = text[(headEnd + 4)..];
                var length = head.Split("\r\n").FirstOrDefault(line => line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
                if (read == 0 || body.EndsWith("0\r\n\r\n", StringComparison.Ordinal)
                    || (length is not null && Encoding.UTF8.GetByteCount(body) >= int.Parse(length["Content-Length:".Length..].Trim())))
                {
                    return (head, body);
                }
            }
            else if (read == 0)
            {
                throw new IOException($"The connection closed before an answer: '{text}'");
            }
        }
    }
}
