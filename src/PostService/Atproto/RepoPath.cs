using System.Text;

namespace PostService.Atproto;

/// <summary>A repository key <c>collection/rkey</c>, the form MST keys and firehose op paths take.</summary>
public readonly record struct RepoPath(string Collection, string RecordKey)
{
    public static RepoPath Parse(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var slash = path.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == path.Length - 1 || path.IndexOf('/', slash + 1) >= 0)
        {
            throw new AtprotoFormatException($"repo path '{path}' is not collection/rkey");
        }

        var collection = path[..slash];
        var recordKey = path[(slash + 1)..];
        if (collection is "." or ".." || recordKey is "." or "..")
        {
            throw new AtprotoFormatException($"repo path '{path}' has a '.' or '..' segment");
        }

        return new RepoPath(collection, recordKey);
    }

    public override string ToString() => Collection + "/" + RecordKey;

    /// <summary>MST keys are ASCII from the NSID and record key alphabets; anything else is corruption.</summary>
    internal static string KeyToString(ReadOnlySpan<byte> key)
    {
        foreach (var b in key)
        {
            var allowed = b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9')
                or (byte)'.' or (byte)'-' or (byte)'_' or (byte)':' or (byte)'~' or (byte)'/';
            if (!allowed)
            {
                throw new AtprotoFormatException($"MST key contains byte 0x{b:x2}, not allowed in collection/rkey");
            }
        }

        return Encoding.ASCII.GetString(key);
    }
}
