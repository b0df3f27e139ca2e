using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace PostService.Security;

/// <summary>
/// The configured API keys, kept only as SHA-256 digests. A presented key is hashed and compared with every digest in
/// constant time, so neither the position of a mismatch nor the key's length shows in the timing.
/// </summary>
public sealed class ApiKeyRing(IOptions<AuthOptions> options)
{
    public const string HeaderName = "X-Api-Key";

    private readonly byte[][] _digests = options.Value.ApiKeys.Select(key => Digest(key.Trim())).ToArray();

    public bool IsConfigured => _digests.Length > 0;

    public int Count => _digests.Length;

    /// <summary>The index of the key the request carries in <see cref="HeaderName"/>, or null when it carries none that is valid.</summary>
    public int? Match(HttpRequest request) =>
        request.Headers[HeaderName] is [{ Length: > 0 } presented] ? Match(presented.Trim()) : null;

    private int? Match(string presented)
    {
        var digest = Digest(presented);
        int? match = null;
        // No early exit: every key is compared whichever matches.
        for (var i = 0; i < _digests.Length; i++)
        {
            if (CryptographicOperations.FixedTimeEquals(digest, _digests[i]))
            {
                match = i;
            }
        }
        return match;
    }

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}

/// <summary>Who is calling, as far as the connection tells: the remote address.</summary>
public static class ClientAddress
{
    /// <summary>
    /// True only for a known loopback address. A connection without an address (a Unix socket, an in-memory test server)
    /// is not known to be local, so it is not loopback.
    /// </summary>
    public static bool IsLoopback(HttpContext context) =>
        Of(context) is { } address && IPAddress.IsLoopback(address);

    /// <summary>The remote address for a log line.</summary>
    public static string Describe(HttpContext context) => Of(context)?.ToString() ?? "an unknown address";

    /// <summary>The remote address, IPv4-mapped IPv6 addresses as IPv4, or null when the connection has none.</summary>
    public static IPAddress? Of(HttpContext context) =>
        context.Connection.RemoteIpAddress is { IsIPv4MappedToIPv6: true } mapped ? mapped.MapToIPv4() : context.Connection.RemoteIpAddress;
}
