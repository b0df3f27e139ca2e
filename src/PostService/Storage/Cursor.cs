using System.Buffers.Text;
using System.Text;

namespace PostService.Storage;

/// <summary>Opaque keyset cursors: the last key of a page, URL-safe base64, so callers cannot depend on its shape.</summary>
public static class Cursor
{
    public static string Encode(string lastKey) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(lastKey));

    public static bool TryDecode(string? cursor, out string? lastKey)
    {
        lastKey = null;
        if (string.IsNullOrEmpty(cursor))
        {
            return true;
        }
        try
        {
            lastKey = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
