using System.Text.Json;

namespace PostService.Identity;

/// <summary>What PostService needs from a DID document: where the account's repository is, and its claimed handle.</summary>
public sealed record DidDocument(string Did, Uri PdsEndpoint, string? Handle);

/// <summary>A DID or handle resolved, or the reason it could not be.</summary>
public sealed record Resolution<T>(T? Value, string? Failure) where T : class
{
    public static Resolution<T> Resolved(T value) => new(value, null);

    public static Resolution<T> Failed(string reason) => new(null, reason);
}

/// <summary>Reads a DID document strictly: anything malformed is a reason, never an exception.</summary>
public static class DidDocumentParser
{
    private const string PdsServiceId = "#atproto_pds";
    private const string PdsServiceType = "AtprotoPersonalDataServer";

    public static Resolution<DidDocument> Parse(string did, string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException exception)
        {
            return Fail(did, $"is not JSON ({exception.Message})");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return Fail(did, "is not a JSON object");
            }
            if (!root.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String || id.GetString() != did)
            {
                return Fail(did, "names another DID in its id");
            }
            if (PdsEndpoint(did, root) is not { } endpoint)
            {
                return Fail(did, $"has no {PdsServiceId} service with an http(s) serviceEndpoint");
            }
            return Resolution<DidDocument>.Resolved(new DidDocument(did, endpoint, Handle(root)));
        }
    }

    private static Resolution<DidDocument> Fail(string did, string problem) => Resolution<DidDocument>.Failed($"the DID document of {did} {problem}");

    private static Uri? PdsEndpoint(string did, JsonElement root)
    {
        if (!root.TryGetProperty("service", out var services) || services.ValueKind != JsonValueKind.Array)
        {
            return null;
        }
        foreach (var service in services.EnumerateArray())
        {
            if (service.ValueKind == JsonValueKind.Object
                && StringOf(service, "id") is { } serviceId && (serviceId == PdsServiceId || serviceId == did + PdsServiceId)
                && StringOf(service, "type") == PdsServiceType
                && StringOf(service, "serviceEndpoint") is { } endpoint
                && Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
                && string.IsNullOrEmpty(uri.Query) && string.IsNullOrEmpty(uri.Fragment))
            {
                return uri;
            }
        }
        return null;
    }

    /// <summary>The first <c>at://</c> entry of <c>alsoKnownAs</c>, lower-cased as handles compare.</summary>
    private static string? Handle(JsonElement root)
    {
        if (!root.TryGetProperty("alsoKnownAs", out var names) || names.ValueKind != JsonValueKind.Array)
        {
            return null;
        }
        return names.EnumerateArray()
            .Where(name => name.ValueKind == JsonValueKind.String)
            .Select(name => name.GetString()!)
            .FirstOrDefault(name => name.StartsWith("at://", StringComparison.Ordinal) && name.Length > "at://".Length)?["at://".Length..]
            .ToLowerInvariant();
    }

    private static string? StringOf(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
