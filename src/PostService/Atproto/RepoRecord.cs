using System.Text.Json.Nodes;

namespace PostService.Atproto;

/// <summary>One record of a repository: where it is, its CID, and its value in atproto JSON form.</summary>
public sealed record RepoRecord(string Collection, string RecordKey, Cid Cid, JsonNode Value);
