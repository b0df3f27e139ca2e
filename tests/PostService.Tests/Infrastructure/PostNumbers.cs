namespace PostService.Tests.Infrastructure;

/// <summary>
/// Checks of the post numbers (<c>posts.post_id</c>, <c>feed_request_posts.post_id</c>) that "which requests served this
/// post" joins through: a served row numbered wrong or not at all is lost to it. Each counts what should not exist.
/// </summary>
public static class PostNumbers
{
    public const string ServedRowsNotFindingTheirPost = """
        SELECT count(*) FROM feed_request_posts f
        WHERE f.post_uri IS NOT NULL AND NOT EXISTS (SELECT 1 FROM posts p WHERE p.post_id = f.post_id AND p.post_uri = f.post_uri)
        """;

    public const string PostsWithoutNumber = "SELECT count(*) FROM posts WHERE post_id IS NULL";
}
