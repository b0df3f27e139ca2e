using System.Diagnostics;
using Dapper;
using PostService.Storage;

namespace PostService.Bench;

/// <summary>
/// <c>GET /exports/exposures.parquet</c> and <c>.csv</c> of <c>--exposures</c> rows (feed requests of 10 posts over a
/// pool of <c>--posts</c> hydrated posts) from the service process: time to the first byte, total time, file size,
/// and the service's peak resident memory (VmHWM), which must not grow with the rows: row groups of <c>--row-group</c>
/// rows leave as they fill.
/// </summary>
public static class ExportBenchmark
{
    private const int PostsPerRequest = 10;

    private const string InsertRequest = """
        INSERT INTO feed_requests (request_id, requester_did, algo, timestamp, posts_json, received_at)
        VALUES (@Id, @Requester, 'bench-feed', @At, '[]', @At)
        """;

    private const string InsertServed = """
        INSERT INTO feed_request_posts (request_id, post_index, post_uri, post_json, post_id)
        VALUES (@RequestId, @Position, @Uri, '{}', (SELECT post_id FROM posts WHERE post_uri = @Uri))
        """;

    public static async Task<int> RunAsync(Arguments arguments)
    {
        var exposures = arguments.Int("exposures", 1_000_000);
        var posts = arguments.Int("posts", 200_000);
        var rowGroup = arguments.Int("row-group", 50_000);
        var path = BenchHost.NewDatabasePath();
        var fill = Stopwatch.StartNew();
        using (var host = await BenchHost.StartAsync(path))
        {
            var connections = host.Services.GetRequiredService<IDbConnectionFactory>();
            await SyntheticPosts.FillAsync(connections, posts);
            await FillExposuresAsync(connections, exposures, posts);
        }
        Console.WriteLine($"setup        {exposures:N0} exposures of {posts:N0} posts ({fill.Elapsed.TotalSeconds:F0} s, {new FileInfo(path).Length / 1_048_576} MiB)");

        var figures = new List<(string, object)> { ("exposures", exposures), ("row_group", rowGroup) };
        foreach (var format in (string[])["parquet", "csv"])
        {
            // A service of its own per format, so that each peak is that export's.
            await using var service = await ServiceProcess.StartAsync(new Dictionary<string, string?>
            {
                ["PostService:Database:Path"] = path,
                ["PostService:Hydration:Enabled"] = "false",
                ["PostService:Exports:RowGroupSize"] = rowGroup.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
            var atStart = service.Memory();
            var file = Path.Combine(Path.GetDirectoryName(path)!, $"exposures.{format}");
            var clock = Stopwatch.StartNew();
            using var response = await service.Client.GetAsync($"/exports/exposures.{format}", HttpCompletionOption.ResponseHeadersRead);
            response.EnsureSuccessStatusCode();
            await using var body = await response.Content.ReadAsStreamAsync();
            await using var output = File.Create(file);
            var first = new byte[1];
            var read = await body.ReadAsync(first);
            var firstByte = clock.Elapsed;
            await output.WriteAsync(first.AsMemory(0, read));
            await body.CopyToAsync(output);
            var peak = service.Memory().PeakMiB;
            var megabytes = output.Length / 1_048_576.0;
            Console.WriteLine($"{format,-12} {clock.Elapsed.TotalSeconds:F1} s ({exposures / clock.Elapsed.TotalSeconds:N0} rows/s), first byte after {firstByte.TotalMilliseconds:F0} ms, " +
                              $"{megabytes:F0} MiB; service RSS {atStart.RssMiB:F0} MiB before, peak {peak:F0} MiB");
            figures.AddRange([($"{format}_s", Math.Round(clock.Elapsed.TotalSeconds, 1)), ($"{format}_first_byte_ms", Math.Round(firstByte.TotalMilliseconds)),
                ($"{format}_mib", Math.Round(megabytes)), ($"{format}_peak_rss_mib", Math.Round(peak))]);
        }
        BenchHost.PrintFigures([.. figures]);
        return 0;
    }

    /// <summary>Feed requests of <see cref="PostsPerRequest"/> posts each, one a second backwards from now, 50,000 rows per transaction.</summary>
    private static async Task FillExposuresAsync(IDbConnectionFactory connections, int exposures, int posts)
    {
        var now = DateTimeOffset.UtcNow;
        var requests = exposures / PostsPerRequest;
        const int chunk = 5_000;
        for (var start = 0; start < requests; start += chunk)
        {
            var ids = Enumerable.Range(start, Math.Min(chunk, requests - start)).ToList();
            await connections.WriteAsync(async (connection, transaction) =>
            {
                await connection.ExecuteAsync(InsertRequest, ids.Select(id => new
                {
                    Id = (long)id,
                    Requester = $"did:plc:requester{id % Workload.Requesters}",
                    At = DbTime.ToText(now.AddSeconds(-id)),
                }), transaction);
                return await connection.ExecuteAsync(InsertServed, ids.SelectMany(id => Enumerable.Range(0, PostsPerRequest).Select(position => new
                {
                    RequestId = (long)id,
                    Position = position,
                    Uri = Workload.PostUri((id * PostsPerRequest + position) % posts),
                })), transaction);
            }, CancellationToken.None);
        }
    }
}
