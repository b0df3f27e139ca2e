using System.Data.Common;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using PostService.Storage;
using PostService.Storage.Migrations;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;
using Xunit.Abstractions;

namespace PostService.Tests.Storage;

/// <summary>compliance.db files the Python tracker wrote, migrated in place: nothing that must survive is lost.</summary>
public sealed class LegacyMigrationTests(ITestOutputHelper output) : IDisposable
{
    private const int MigrationKills = 20;

    private static readonly string[] OwnTables = ["feed_requests", "feed_request_posts", "posts", "hydration_runs", "post_counts", "schema_version", "sqlite_sequence",
        "repo_backfill_jobs", "repo_records", "firehose_posts", "firehose_handles", "firehose_counts", "firehose_cursor",
        "tags", "post_tags", "ingest_events", "post_metric_snapshots", "hashtags", "post_hashtags", "hashtag_hourly_stats", "post_media", "author_handles"];
    private static readonly string[] ForeignTables = ["engagements", "subscriber_snapshots", "subscriber_follow_counts"];

    private readonly string _directory = TempDirectory.Create();

    public void Dispose() => TempDirectory.Delete(_directory);

    private string NewPath(string name = "compliance.db") => Path.Combine(_directory, Guid.NewGuid().ToString("N")[..8], name);

    private string Write(LegacyDatabaseBuilder builder)
    {
        var path = NewPath();
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return builder.Write(path);
    }

    public static TheoryData<bool, bool> OldLayouts => new() { { false, false }, { true, false }, { true, true } };

    [Theory]
    [MemberData(nameof(OldLayouts))]
    public async Task OldLayoutKeepsTheLatestRowOfEveryPairAndGivesEveryUriAPost(bool withId, bool withUnique)
    {
        var path = Write(LegacyDatabaseBuilder.OldLayout(withId, withUnique).WithSampleData());
        var served = ReadServed(path);
        var requests = RequestRows(path);

        await MigrateAsync(path);

        Assert.Equal(ExpectedServedAfter(served), ReadServed(path));
        Assert.Equal(ExpectedNewPosts(served, alreadyPosts: new HashSet<string>()), ReadPosts(path));
        Assert.Equal(requests, RequestRows(path));
        Assert.Equal(0, Scalar(path, "SELECT count(*) FROM feed_requests WHERE received_at IS NOT timestamp"));
        Assert.Equal(await FreshColumnsAsync("feed_request_posts"), Columns(path, "feed_request_posts"));
        Assert.Equal(await FreshColumnsAsync("posts"), Columns(path, "posts"));
        Assert.DoesNotContain(DatabaseDump.Schema(path), entry => entry.Contains("idx_frp_", StringComparison.Ordinal));
        Assert.Contains(DatabaseDump.Schema(path), entry => entry.StartsWith("index idx_feed_request_posts_post ", StringComparison.Ordinal));
        Assert.DoesNotContain(DatabaseDump.Schema(path), entry => entry.StartsWith("index idx_feed_request_posts_uri ", StringComparison.Ordinal));
        AssertEveryServedRowPointsToItsPost(path);
    }

    private static void AssertEveryServedRowPointsToItsPost(string path)
    {
        Assert.True(Scalar(path, "SELECT count(*) FROM feed_request_posts WHERE post_uri IS NOT NULL") > 0);
        Assert.Equal(0, Scalar(path, PostNumbers.ServedRowsNotFindingTheirPost));
        Assert.Equal(0, Scalar(path, PostNumbers.PostsWithoutNumber));
    }

    [Fact]
    public async Task NewerLayoutKeepsThePythonStatusesAndAddsPostsOnlyForUrisWithout()
    {
        var path = Write(LegacyDatabaseBuilder.NewerLayout().WithSampleData());
        var served = ReadServed(path);
        var pythonPosts = ReadPosts(path);

        await MigrateAsync(path);

        Assert.Equal(ExpectedServedAfter(served), ReadServed(path));
        var expected = pythonPosts.Concat(ExpectedNewPosts(served, pythonPosts.Select(post => post.PostUri).ToHashSet())).OrderBy(post => post.PostUri, StringComparer.Ordinal);
        Assert.Equal(expected, ReadPosts(path));
        Assert.Equal(["error", "not_found", "ok", "ok", "pending"], ReadPosts(path).Select(post => post.HydrationStatus).Order());
        Assert.Equal(await FreshColumnsAsync("posts"), Columns(path, "posts"));
        AssertEveryServedRowPointsToItsPost(path);
    }

    [Fact]
    public async Task TablesPostServiceDoesNotOwnComeThroughByteForByte()
    {
        var path = Write(LegacyDatabaseBuilder.OldLayout().WithTablesPostServiceDoesNotOwn().WithSampleData());
        var before = DatabaseDump.Tables(path, OwnTables);
        var schemaBefore = DatabaseDump.Schema(path, ForeignTables);

        await MigrateAsync(path);

        Assert.Equal(ForeignTables.Order(), before.Keys);
        Assert.Equal(before, DatabaseDump.Tables(path, OwnTables));
        Assert.Equal(schemaBefore, DatabaseDump.Schema(path, ForeignTables));
    }

    [Fact]
    public async Task ABackupOfTheUntouchedFileIsWrittenNextToItBeforeTheFirstStep()
    {
        var path = Write(LegacyDatabaseBuilder.OldLayout().WithTablesPostServiceDoesNotOwn().WithSampleData());
        var original = DatabaseDump.Tables(path);

        var result = await MigrateAsync(path);

        Assert.NotNull(result.BackupPath);
        Assert.Equal(Path.GetDirectoryName(path), Path.GetDirectoryName(result.BackupPath));
        Assert.Matches(@"compliance\.db\.bak-\d{8}T\d{6}\.\d{3}Z$", result.BackupPath);
        Assert.Equal(original, DatabaseDump.Tables(result.BackupPath));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.partial"));
    }

    // Every migration's version, in order (8 is another branch's).

    [Fact]
    public async Task AFreshDatabaseMigratesWithoutABackup()
    {
        var path = NewPath();

        var result = await MigrateAsync(path);

        Assert.Equal(MigrationSteps.Versions, result.Applied.Select(step => step.Version));
        Assert.Null(result.BackupPath);
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!, "compliance.db*"), file => file == path);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(10)]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    public async Task AMigrationKilledInAnyStepResumesToTheSameResult(int failingVersion)
    {
        var builder = LegacyDatabaseBuilder.OldLayout().WithTablesPostServiceDoesNotOwn().WithSampleData();
        var uninterrupted = Write(builder);
        await MigrateAsync(uninterrupted);
        var interrupted = Write(builder);
        var original = DatabaseDump.Tables(interrupted);

        await Assert.ThrowsAsync<IOException>(() => MigrateAsync(interrupted, step => step.Version == failingVersion ? new KilledBeforeCommit(step) : step));

        Assert.Equal(MigrationSteps.Versions.Where(version => version < failingVersion), AppliedVersions(interrupted));
        if (failingVersion == 1)
        {
            Assert.Equal(original, DatabaseDump.Tables(interrupted));
        }
        var resumed = await MigrateAsync(interrupted);
        Assert.Equal(MigrationSteps.Versions.Where(version => version >= failingVersion), resumed.Applied.Select(step => step.Version));
        Assert.Equal(DatabaseDump.Tables(uninterrupted, "schema_version"), DatabaseDump.Tables(interrupted, "schema_version"));
        Assert.Equal(DatabaseDump.Schema(uninterrupted), DatabaseDump.Schema(interrupted));
        Assert.Equal(AppliedVersions(uninterrupted), AppliedVersions(interrupted));
    }

    [Fact]
    public async Task TheMigrateCommandKilledAtRandomMomentsResumesToTheSameResult()
    {
        var uninterrupted = Write(LegacyDatabaseBuilder.OldLayout().WithTablesPostServiceDoesNotOwn().WithSampleData().WithManyRequests(4_000, 20));
        var interrupted = NewPath();
        Directory.CreateDirectory(Path.GetDirectoryName(interrupted)!);
        File.Copy(uninterrupted, interrupted);
        var timer = Stopwatch.StartNew();
        Assert.Equal(0, (await CliRunner.RunProcessAsync("migrate", "--db", uninterrupted)).ExitCode);
        var fullRun = timer.Elapsed;
        var seed = Random.Shared.Next();
        var random = new Random(seed);

        var (kills, midway) = (0, 0);
        while (kills < MigrationKills)
        {
            using var migrate = Process.Start(CliRunner.BuiltExecutable("migrate", "--db", interrupted))!;
            migrate.BeginOutputReadLine();
            migrate.BeginErrorReadLine();
            // Within the first half of a full run's time: later kills mostly find the work done.
            await Task.Delay(TimeSpan.FromMilliseconds(random.Next((int)fullRun.TotalMilliseconds / 2)));
            if (migrate.HasExited)
            {
                break; // it finished before this kill
            }
            migrate.Kill();
            await migrate.WaitForExitAsync();
            kills++;
            midway += AppliedVersions(interrupted) is { Count: > 0 and < 6 } ? 1 : 0;
        }
        var finished = await CliRunner.RunProcessAsync("migrate", "--db", interrupted);
        output.WriteLine($"seed {seed}: a full run took {fullRun}; {kills} kills, {midway} of them between steps");

        Assert.Equal(0, finished.ExitCode);
        Assert.Equal(DatabaseDump.Tables(uninterrupted, "schema_version"), DatabaseDump.Tables(interrupted, "schema_version"));
        Assert.Equal(DatabaseDump.Schema(uninterrupted), DatabaseDump.Schema(interrupted));
        Assert.Equal(AppliedVersions(uninterrupted), AppliedVersions(interrupted));
    }

    [Fact]
    public async Task MigratingTwiceChangesNothing()
    {
        var path = Write(LegacyDatabaseBuilder.OldLayout().WithTablesPostServiceDoesNotOwn().WithSampleData());
        await MigrateAsync(path);
        var once = DatabaseDump.Tables(path);
        var backups = Directory.GetFiles(Path.GetDirectoryName(path)!);

        var again = await MigrateAsync(path);

        Assert.Empty(again.Applied);
        Assert.Null(again.BackupPath);
        Assert.Equal(once, DatabaseDump.Tables(path));
        Assert.Equal(backups, Directory.GetFiles(Path.GetDirectoryName(path)!));
    }

    [Fact]
    public async Task TheRebuildRefusesToDropAnythingWhenAServedUriHasNoPost()
    {
        var path = Write(LegacyDatabaseBuilder.OldLayout().WithSampleData());
        var served = DatabaseDump.Tables(path)["feed_request_posts"];
        await MigrateAsync(path, step => step.Version == 5 ? new KilledBeforeCommit(step) : step).ContinueWith(_ => { });
        using (var connection = DatabaseDump.Open(path))
        {
            connection.Execute("DELETE FROM posts WHERE post_uri = @uri", new { uri = LegacyDatabaseBuilder.Uri("b") });
        }

        var refused = await Assert.ThrowsAsync<MigrationCheckException>(() => MigrateAsync(path));

        Assert.Contains("1 distinct URIs in feed_request_posts_new have no row in posts", refused.Message);
        Assert.Equal(served, DatabaseDump.Tables(path)["feed_request_posts"]);
        Assert.DoesNotContain(5, AppliedVersions(path));
    }

    [Fact]
    public async Task RollbackReaddsTheAuthorColumnsFilledFromPosts()
    {
        var path = Write(LegacyDatabaseBuilder.OldLayout().WithSampleData());
        await MigrateAsync(path);
        await using var services = CoreServices.For(path);

        var restored = await services.GetRequiredService<LegacyAuthorColumns>().RestoreAsync(CancellationToken.None);

        using var connection = DatabaseDump.Open(path);
        var rows = connection.Query<(string? Uri, string? Did, string? Handle, string? PostDid, string? PostHandle)>("""
            SELECT f.post_uri, f.post_author_did, f.post_author_handle, p.author_did, p.author_handle
            FROM feed_request_posts f LEFT JOIN posts p ON p.post_uri = f.post_uri
            """).ToList();
        Assert.Equal(rows.Count, restored.Rows);
        Assert.Equal(rows.Count(row => row.PostDid is not null), restored.WithAuthor);
        Assert.All(rows, row => Assert.Equal((row.PostDid, row.PostHandle), (row.Did, row.Handle)));
        Assert.Contains(rows, row => row is { Uri: not null, Did: "did:plc:author1", Handle: "alice.test" });
        Assert.Contains(rows, row => row is { Uri: not null, Did: "did:plc:author3", Handle: null });
    }

    [Fact]
    public async Task TheServiceMigratesALegacyFileAtStartAndServesItsAuthors()
    {
        var path = Write(LegacyDatabaseBuilder.OldLayout().WithSampleData());
        using var service = new PostServiceFactory(database: TestDatabase.ForFile(path));

        var request = await service.CreateClient().GetOkJsonAsync("/feed-requests/2");
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithId(2).WithPost(LegacyDatabaseBuilder.Uri("a"), 0)))).EnsureSuccessStatusCode();

        var posts = request.GetProperty("posts").EnumerateArray().ToList();
        Assert.Equal(4, posts.Count);
        var dan = posts.Single(post => post.GetProperty("post_uri").GetString() == LegacyDatabaseBuilder.Uri("d", "did:plc:author4"));
        Assert.Equal("dan.test", dan.GetProperty("author_handle").GetString());
        Assert.Equal("ok", dan.GetProperty("hydration_status").GetString());
        Assert.Equal(1, service.Count("SELECT count(*) FROM feed_request_posts WHERE request_id = 2"));
    }

    private static async Task<MigrationResult> MigrateAsync(string path, Func<IMigration, IMigration>? replace = null)
    {
        await using var services = CoreServices.For(path);
        var migrator = replace is null
            ? services.GetRequiredService<Migrator>()
            : new Migrator(services.GetRequiredService<IDbConnectionFactory>(), services.GetRequiredService<ISchemaStore>(),
                services.GetServices<IMigration>().Select(replace),
                services.GetRequiredService<SqliteBackup>(), NullLogger<Migrator>.Instance);
        return await migrator.MigrateAsync(CancellationToken.None);
    }

    /// <summary>Does the step's work, then dies before its transaction commits, as a process killed at that moment.</summary>
    private sealed class KilledBeforeCommit(IMigration step) : IMigration
    {
        public int Version => step.Version;

        public string Name => step.Name;

        public Task<bool> IsDestructiveAsync(DbConnection connection, CancellationToken cancellationToken) =>
            step.IsDestructiveAsync(connection, cancellationToken);

        public async Task ApplySqliteAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
        {
            await step.ApplySqliteAsync(connection, transaction, cancellationToken);
            throw new IOException($"killed in step {Version}");
        }

        public Task ApplyPostgresAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
            step.ApplyPostgresAsync(connection, transaction, cancellationToken);
    }

    private sealed record ServedRow
    {
        public long RowId { get; init; }
        public long RequestId { get; init; }
        public long? PostIndex { get; init; }
        public string? PostUri { get; init; }
        public string? PostJson { get; init; }
        public string? AuthorDid { get; init; }
        public string? AuthorHandle { get; init; }
    }

    private sealed record PostRow
    {
        public required string PostUri { get; init; }
        public string? Cid { get; init; }
        public string? AuthorDid { get; init; }
        public string? AuthorHandle { get; init; }
        public string? HydrationStatus { get; init; }
        public string? HydrationError { get; init; }
        public string? LastHydratedAt { get; init; }
        public string? MetadataSource { get; init; }
    }

    /// <summary>feed_request_posts with its rowid (the id, where there is one), authors where the legacy columns exist.</summary>
    private static List<ServedRow> ReadServed(string path)
    {
        using var connection = DatabaseDump.Open(path);
        var authors = Columns(path, "feed_request_posts").Any(column => column.StartsWith("post_author_did ", StringComparison.Ordinal))
            ? "post_author_did AS AuthorDid, post_author_handle AS AuthorHandle"
            : "NULL AS AuthorDid, NULL AS AuthorHandle";
        return connection.Query<ServedRow>($"""
            SELECT rowid AS RowId, request_id AS RequestId, post_index AS PostIndex, post_uri AS PostUri, post_json AS PostJson, {authors}
            FROM feed_request_posts ORDER BY rowid
            """).ToList();
    }

    private static List<PostRow> ReadPosts(string path)
    {
        using var connection = DatabaseDump.Open(path);
        var source = Columns(path, "posts").Any(column => column.StartsWith("metadata_source ", StringComparison.Ordinal)) ? "metadata_source" : "NULL";
        return connection.Query<PostRow>($"""
            SELECT post_uri AS PostUri, cid AS Cid, author_did AS AuthorDid, author_handle AS AuthorHandle, hydration_status AS HydrationStatus,
                   hydration_error AS HydrationError, last_hydrated_at AS LastHydratedAt, {source} AS MetadataSource
            FROM posts ORDER BY post_uri
            """).ToList();
    }

    /// <summary>The latest row of each (request, URI) pair and every row without URI, under its old rowid, without authors.</summary>
    private static List<ServedRow> ExpectedServedAfter(IReadOnlyList<ServedRow> before) =>
        before.Where(row => row.PostUri is null)
            .Concat(before.Where(row => row.PostUri is not null).GroupBy(row => (row.RequestId, row.PostUri)).Select(pair => pair.MaxBy(row => row.RowId)!))
            .Select(row => row with { AuthorDid = null, AuthorHandle = null })
            .OrderBy(row => row.RowId)
            .ToList();

    /// <summary>
    /// What the migration must add to posts, worked out independently of its SQL: per URI, the latest non-empty legacy
    /// author column, else the latest author in valid post_json; the latest CID in post_json; ok/legacy with both.
    /// </summary>
    private static IEnumerable<PostRow> ExpectedNewPosts(IReadOnlyList<ServedRow> served, IReadOnlySet<string> alreadyPosts) =>
        served.Where(row => row.PostUri is not null && !alreadyPosts.Contains(row.PostUri))
            .GroupBy(row => row.PostUri!)
            .Select(rows =>
            {
                var did = Latest(rows, row => row.AuthorDid) ?? Latest(rows, row => JsonText(row.PostJson, "author", "did"));
                var handle = Latest(rows, row => row.AuthorHandle) ?? Latest(rows, row => JsonText(row.PostJson, "author", "handle"));
                var complete = did is not null && handle is not null;
                return new PostRow
                {
                    PostUri = rows.Key,
                    Cid = Latest(rows, row => JsonText(row.PostJson, "cid")),
                    AuthorDid = did,
                    AuthorHandle = handle,
                    HydrationStatus = complete ? "ok" : "pending",
                    MetadataSource = complete ? "legacy" : null,
                };
            })
            .OrderBy(post => post.PostUri, StringComparer.Ordinal);

    private static string? Latest(IEnumerable<ServedRow> rows, Func<ServedRow, string?> value) =>
        rows.OrderByDescending(row => row.RowId).Select(value).FirstOrDefault(text => !string.IsNullOrEmpty(text));

    private static string? JsonText(string? json, params string[] path)
    {
        try
        {
            var node = json is null ? null : JsonNode.Parse(json);
            foreach (var name in path)
            {
                node = (node as JsonObject)?[name];
            }
            return node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static IReadOnlyList<string> RequestRows(string path)
    {
        using var connection = DatabaseDump.Open(path);
        return DatabaseDump.Rows(connection, "feed_requests", "request_id, requester_did, algo, timestamp, posts_json");
    }

    private static long Scalar(string path, string sql)
    {
        using var connection = DatabaseDump.Open(path);
        return connection.ExecuteScalar<long>(sql);
    }

    private static IReadOnlyList<int> AppliedVersions(string path)
    {
        using var connection = DatabaseDump.Open(path);
        var recorded = connection.ExecuteScalar<long>("SELECT count(*) FROM sqlite_master WHERE name = 'schema_version'") > 0;
        return recorded ? connection.Query<int>("SELECT version FROM schema_version ORDER BY version").ToList() : [];
    }

    /// <summary>Name, type, NOT NULL and primary key of each column; defaults aside (received_at gets '' on legacy files).</summary>
    private static IReadOnlyList<string> Columns(string path, string table)
    {
        using var connection = DatabaseDump.Open(path);
        return DatabaseDump.Strings(connection, $"SELECT name || ' ' || type || ' ' || \"notnull\" || ' ' || pk FROM pragma_table_info('{table}') ORDER BY cid");
    }

    /// <summary>The columns of <paramref name="table"/> in a file PostService created.</summary>
    private static async Task<IReadOnlyList<string>> FreshColumnsAsync(string table)
    {
        var directory = TempDirectory.Create();
        try
        {
            var path = Path.Combine(directory, "fresh.db");
            await MigrateAsync(path);
            return Columns(path, table);
        }
        finally
        {
            TempDirectory.Delete(directory);
        }
    }
}
