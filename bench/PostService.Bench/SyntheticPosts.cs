using Dapper;
using PostService.Storage;

namespace PostService.Bench;

/// <summary>
/// Fills <c>posts</c> with the workload's pool as a long-running service would have it: mostly hydrated rows with
/// their metadata, some not found, failed, pending or invalid, hydrated over the last 40 days.
/// </summary>
public static class SyntheticPosts
{
    private static readonly string[] Statuses = ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "not_found", "error", "pending", "invalid"];

    private const string Insert = """
        INSERT INTO posts (post_uri, cid, author_did, author_handle, indexed_at, created_at, text, langs, like_count,
                           repost_count, reply_count, quote_count, hydration_status, last_hydrated_at, metadata_source, post_id)
        VALUES (@Uri, @Cid, @Author, @Handle, @At, @At, @Text, @Langs, @Likes, 0, 0, 0, @Status, @Hydrated, @Source, @PostId)
        """;

    /// <summary>Inserts pool posts 0 to <paramref name="posts"/> - 1, 50,000 per transaction.</summary>
    public static async Task FillAsync(IDbConnectionFactory connections, int posts)
    {
        var now = DateTimeOffset.UtcNow;
        const int chunk = 50_000;
        for (var start = 0; start < posts; start += chunk)
        {
            var rows = Enumerable.Range(start, Math.Min(chunk, posts - start)).Select(i =>
            {
                var status = Statuses[i % Statuses.Length];
                var ok = status == "ok";
                return new
                {
                    Uri = Workload.PostUri(i),
                    PostId = i + 1L,
                    Cid = ok ? $"bafyreibench{i:D20}" : null,
                    Author = ok ? Workload.AuthorDid(i) : null,
                    Handle = ok ? $"user{i % Workload.Authors}.bsky.social" : null,
                    At = ok ? DbTime.ToText(now.AddMinutes(-(i % (60 * 24 * 40)) - 5)) : null,
                    Text = ok ? $"post {i}: a sentence or two of text, about as long as most posts on the network are." : null,
                    Langs = ok ? """["en"]""" : null,
                    Likes = ok ? i % 97 : (int?)null,
                    Status = status,
                    Hydrated = status is "pending" or "invalid" ? null : DbTime.ToText(now.AddMinutes(-(i % (60 * 24 * 40)))),
                    Source = ok ? "appview" : null,
                };
            });
            await connections.WriteAsync((connection, transaction) => connection.ExecuteAsync(Insert, rows, transaction), CancellationToken.None);
        }
    }
}
