using System.Text.Json;
using PostService.Storage;

namespace PostService.Identity;

public sealed record RepoStatus(bool Active, string? Status);

/// <summary>Reads what a PDS answers to <c>getRepoStatus</c> and <c>getRecord</c>; anything unexpected is null, never an exception.</summary>
public static class PdsAnswers
{
    /// <summary>A <c>getRepoStatus</c> answer: whether the account is active, and if not, its status; null when the body is not one.</summary>
    public static RepoStatus? ReadRepoStatus(string body)
    {
        using var document = ParseObject(body);
        if (document is null || !document.RootElement.TryGetProperty("active", out var active)
            || active.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            return null;
        }
        return new RepoStatus(active.ValueKind == JsonValueKind.True, StringOf(document.RootElement, "status"));
    }

    /// <summary>The account reason of a <c>getRepoStatus</c> status or of an XRPC error name (<c>RepoDeactivated</c>, ...).</summary>
    public static string? AccountReason(string? statusOrError) => statusOrError?.ToLowerInvariant() switch
    {
        "deactivated" or "repodeactivated" => NotFoundReason.AccountDeactivated,
        "takendown" or "repotakendown" => NotFoundReason.AccountTakendown,
        "suspended" or "reposuspended" => NotFoundReason.AccountSuspended,
        "deleted" or "reponotfound" => NotFoundReason.AccountDeleted,
        _ => null,
    };

    /// <summary>The parts of a <c>getRecord</c> answer for a post that <c>posts</c> keeps.</summary>
    public static PdsPostRecord? ReadPost(string body)
    {
        using var document = ParseObject(body);
        if (document is null || StringOf(document.RootElement, "cid") is not { } cid
            || !document.RootElement.TryGetProperty("value", out var value) || value.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        var langs = value.TryGetProperty("langs", out var tags) && tags.ValueKind == JsonValueKind.Array
            ? JsonSerializer.Serialize(tags.EnumerateArray().Where(tag => tag.ValueKind == JsonValueKind.String).Select(tag => tag.GetString()).ToArray())
            : null;
        return new PdsPostRecord(
            cid,
            DbTime.TryParse(StringOf(value, "createdAt"), out var createdAt) ? DbTime.ToText(createdAt) : null,
            StringOf(value, "text"),
            langs,
            StringAt(value, "reply", "parent", "uri"),
            StringAt(value, "reply", "root", "uri"),
            StringAt(value, "embed", "$type"));
    }

    private static JsonDocument? ParseObject(string body)
    {
        try
        {
            var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                return document;
            }
            document.Dispose();
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? StringAt(JsonElement element, params string[] path)
    {
        foreach (var name in path[..^1])
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out element))
            {
                return null;
            }
        }
        return element.ValueKind == JsonValueKind.Object ? StringOf(element, path[^1]) : null;
    }

    private static string? StringOf(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
