using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Dapper;
using Npgsql;
using NpgsqlTypes;

namespace PostService.Storage;

/// <summary>How far a copy of one table has come: rows copied so far, of how many.</summary>
public sealed record CopyProgress(string Table, long Copied, long Total);

/// <summary>A table's rows in the source and in the target after a copy.</summary>
public sealed record CopyCount(string Table, long Source, long Target)
{
    public bool Matches => Source == Target;
}

/// <summary>
/// Copies a migrated SQLite database into a migrated PostgreSQL one, table by table in key order, in chunks written
/// with binary COPY. Each chunk commits together with the last key it copied (table <c>copy_progress</c>), so a copy
/// that was cut short resumes after its last whole chunk and never copies a row twice.
/// </summary>
public sealed class PostgresCopy(SqliteConnectionFactory source, PostgresConnectionFactory target)
{
    private const string CreateProgressTable = """
        CREATE TABLE IF NOT EXISTS copy_progress (
            source     text NOT NULL,
            table_name text NOT NULL,
            last_key   text NOT NULL,
            rows       bigint NOT NULL,
            PRIMARY KEY (source, table_name)
        )
        """;

    private const string SelectProgress = "SELECT last_key FROM copy_progress WHERE source = @Source AND table_name = @Table";

    private const string SaveProgress = """
        INSERT INTO copy_progress (source, table_name, last_key, rows) VALUES (@Source, @Table, @LastKey, @Rows)
        ON CONFLICT (source, table_name) DO UPDATE SET last_key = excluded.last_key, rows = copy_progress.rows + excluded.rows
        """;

    private const string CountOtherSources = "SELECT count(*) FROM copy_progress WHERE source <> @Source";

    private const string SelectOrphanedRequestIds = """
        SELECT DISTINCT request_id FROM feed_request_posts f
        WHERE NOT EXISTS (SELECT 1 FROM feed_requests r WHERE r.request_id = f.request_id)
        ORDER BY request_id
        """;

    /// <summary>
    /// The tables, parents first, with the columns copied and their PostgreSQL types. The first column is the key the
    /// copy walks in order, except for tables keyed by several columns (<see cref="CopiedTable.ByRowId"/>): those are
    /// walked in SQLite's rowid order, which is not copied.
    /// </summary>
    private static readonly CopiedTable[] Tables =
    [
        new("feed_requests", [("request_id", Kind.BigInt), ("requester_did", Kind.Text), ("algo", Kind.Text), ("timestamp", Kind.Time),
            ("posts_json", Kind.Json), ("received_at", Kind.Time)]),
        new("feed_request_posts", [("id", Kind.BigInt), ("request_id", Kind.BigInt), ("post_index", Kind.Int), ("post_uri", Kind.Text),
            ("post_json", Kind.Json), ("post_id", Kind.BigInt)]),
        new("posts", [("post_uri", Kind.Text), ("cid", Kind.Text), ("author_did", Kind.Text), ("author_handle", Kind.Text),
            ("indexed_at", Kind.Time), ("created_at", Kind.Time), ("last_hydrated_at", Kind.Time), ("hydration_status", Kind.Text),
            ("hydration_error", Kind.Text), ("text", Kind.Text), ("langs", Kind.Json), ("reply_parent_uri", Kind.Text),
            ("reply_root_uri", Kind.Text), ("embed_type", Kind.Text), ("like_count", Kind.BigInt), ("repost_count", Kind.BigInt),
            ("reply_count", Kind.BigInt), ("quote_count", Kind.BigInt), ("attempts", Kind.BigInt), ("next_attempt_at", Kind.Time),
            ("metadata_source", Kind.Text), ("not_found_reason", Kind.Text), ("resolved_uri", Kind.Text), ("deleted_at", Kind.Time),
            ("first_served_at", Kind.Time), ("next_refresh_at", Kind.Time), ("post_id", Kind.BigInt)]),
        new("hydration_runs", [("run_id", Kind.BigInt), ("trigger", Kind.Text), ("force", Kind.Bool), ("refresh", Kind.Bool),
            ("started_at", Kind.Time), ("finished_at", Kind.Time), ("status", Kind.Text), ("attempted", Kind.BigInt), ("hydrated", Kind.BigInt),
            ("not_found", Kind.BigInt), ("errors", Kind.BigInt), ("skipped_cached", Kind.BigInt), ("api_calls", Kind.BigInt),
            ("rate_limited", Kind.BigInt), ("retries", Kind.BigInt)]),
        new("tags", [("name", Kind.Text), ("description", Kind.Text), ("color", Kind.Text), ("created_at", Kind.Time)]),
        new("post_tags", [("post_uri", Kind.Text), ("tag", Kind.Text), ("applied_by", Kind.Text), ("confidence", Kind.Real),
            ("notes", Kind.Text), ("version", Kind.Text), ("created_at", Kind.Time)], ByRowId: true),
        new("ingest_events", [("id", Kind.BigInt), ("received_at", Kind.Time), ("body", Kind.Bytes), ("retrievals", Kind.Int),
            ("processed_at", Kind.Time), ("error", Kind.Text)]),
        new("post_metric_snapshots", [("post_uri", Kind.Text), ("captured_at", Kind.Time), ("like_count", Kind.BigInt),
            ("repost_count", Kind.BigInt), ("reply_count", Kind.BigInt), ("quote_count", Kind.BigInt), ("source", Kind.Text)], ByRowId: true),
        new("hashtags", [("id", Kind.BigInt), ("name", Kind.Text), ("first_seen_at", Kind.Time), ("last_seen_at", Kind.Time)]),
        new("post_hashtags", [("post_uri", Kind.Text), ("hashtag_id", Kind.BigInt)], ByRowId: true),
        new("hashtag_hourly_stats", [("hashtag_id", Kind.BigInt), ("hour", Kind.Time), ("posts", Kind.BigInt), ("unique_authors", Kind.BigInt),
            ("times_served", Kind.BigInt), ("engagement", Kind.BigInt)], ByRowId: true),
        new("post_media", [("post_uri", Kind.Text), ("position", Kind.Int), ("kind", Kind.Text), ("url", Kind.Text), ("alt", Kind.Text),
            ("width", Kind.Int), ("height", Kind.Int), ("blob_cid", Kind.Text), ("title", Kind.Text), ("description", Kind.Text),
            ("quoted_uri", Kind.Text)], ByRowId: true),
        new("author_handles", [("did", Kind.Text), ("handle", Kind.Text), ("first_seen_at", Kind.Time), ("last_seen_at", Kind.Time)], ByRowId: true),
    ];

    // Identity columns given explicit values: their sequences must continue after the copied ids. A post a SQLite file
    // holds without a number (stored by hand, never served since) gets one, as PostgreSQL's sweep pages by it.
    private const string AdvanceSequences = """
        SELECT setval(pg_get_serial_sequence('feed_request_posts', 'id'), greatest((SELECT max(id) FROM feed_request_posts), 1));
        SELECT setval(pg_get_serial_sequence('posts', 'post_id'), greatest((SELECT max(post_id) FROM posts), 1));
        UPDATE posts SET post_id = DEFAULT WHERE post_id IS NULL;
        SELECT setval(pg_get_serial_sequence('hydration_runs', 'run_id'), greatest((SELECT max(run_id) FROM hydration_runs), 1));
        SELECT setval(pg_get_serial_sequence('ingest_events', 'id'), greatest((SELECT max(id) FROM ingest_events), 1));
        SELECT setval(pg_get_serial_sequence('hashtags', 'id'), greatest((SELECT max(id) FROM hashtags), 1));
        """;

    public static IReadOnlyList<string> TableNames { get; } = Tables.Select(table => table.Name).ToList();

    /// <summary>
    /// Whether the target holds rows that did not come from this source (another database, or the service's own):
    /// then the counts could not verify the copy, and it is refused.
    /// </summary>
    public async Task<bool> TargetHoldsOtherDataAsync(CancellationToken cancellationToken)
    {
        await EnsureProgressTableAsync(cancellationToken);
        await using var connection = await target.OpenAsync(cancellationToken);
        if (await connection.ExecuteScalarAsync<long>(new CommandDefinition(CountOtherSources, new { Source = source.FilePath }, cancellationToken: cancellationToken)) > 0)
        {
            return true;
        }
        foreach (var table in Tables)
        {
            var copied = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(SelectProgress,
                new { Source = source.FilePath, Table = table.Name }, cancellationToken: cancellationToken));
            if (copied is null && await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                    $"SELECT EXISTS (SELECT 1 FROM {table.Name})", cancellationToken: cancellationToken)))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Request ids that served rows of the file point to but that have no <c>feed_requests</c> row (an older tool's
    /// leftovers, which SQLite keeps). PostgreSQL enforces the reference, so the copy cannot take them as they are.
    /// </summary>
    public async Task<IReadOnlyList<long>> OrphanedRequestIdsAsync(CancellationToken cancellationToken) =>
        await source.QueryListAsync<long>(SelectOrphanedRequestIds, null, cancellationToken);

    /// <summary>Copies every table, reporting after each chunk; resumes where an earlier copy of the same file stopped.</summary>
    public async Task CopyAsync(int chunkRows, IProgress<CopyProgress> progress, CancellationToken cancellationToken)
    {
        await EnsureProgressTableAsync(cancellationToken);
        foreach (var table in Tables)
        {
            await CopyTableAsync(table, chunkRows, progress, cancellationToken);
        }
        await target.WriteAsync((connection, transaction) => connection.ExecuteAsync(AdvanceSequences, transaction: transaction), cancellationToken);
    }

    /// <summary>Row counts of every copied table in both databases.</summary>
    public async Task<IReadOnlyList<CopyCount>> CountAsync(CancellationToken cancellationToken)
    {
        var counts = new List<CopyCount>();
        await using var from = await source.OpenAsync(cancellationToken);
        await using var to = await target.OpenAsync(cancellationToken);
        foreach (var table in Tables)
        {
            counts.Add(new CopyCount(table.Name, await CountRowsAsync(from, table.Name, cancellationToken), await CountRowsAsync(to, table.Name, cancellationToken)));
        }
        return counts;
    }

    private static Task<long> CountRowsAsync(DbConnection connection, string table, CancellationToken cancellationToken) =>
        connection.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT count(*) FROM {table}", cancellationToken: cancellationToken));

    private Task EnsureProgressTableAsync(CancellationToken cancellationToken) =>
        target.WriteAsync((connection, transaction) => connection.ExecuteAsync(CreateProgressTable, transaction: transaction), cancellationToken);

    private async Task CopyTableAsync(CopiedTable table, int chunkRows, IProgress<CopyProgress> progress, CancellationToken cancellationToken)
    {
        var key = table.Key;
        await using var from = await source.OpenAsync(cancellationToken);
        var total = await CountRowsAsync(from, table.Name, cancellationToken);
        string? lastKey;
        await using (var to = await target.OpenAsync(cancellationToken))
        {
            lastKey = await to.ExecuteScalarAsync<string?>(new CommandDefinition(SelectProgress, new { Source = source.FilePath, Table = table.Name }, cancellationToken: cancellationToken));
        }
        var copied = lastKey is null ? 0 : await from.ExecuteScalarAsync<long>(new CommandDefinition(
            $"SELECT count(*) FROM {table.Name} WHERE {key.Name} <= @LastKey", new { LastKey = KeyParameter(key.Kind, lastKey) }, cancellationToken: cancellationToken));
        progress.Report(new CopyProgress(table.Name, copied, total));

        var columnList = string.Join(", ", table.Columns.Select(column => column.Name));
        // The key is read first; a rowid key is read but not copied.
        var selected = table.ByRowId ? $"rowid, {columnList}" : columnList;
        var skip = table.ByRowId ? 1 : 0;
        var selectFirst = $"SELECT {selected} FROM {table.Name} ORDER BY {key.Name} LIMIT @Limit";
        var selectNext = $"SELECT {selected} FROM {table.Name} WHERE {key.Name} > @LastKey ORDER BY {key.Name} LIMIT @Limit";
        var copyIn = $"COPY {table.Name} ({columnList}) FROM STDIN (FORMAT BINARY)";
        while (true)
        {
            var rows = new List<object?[]>(chunkRows);
            await using (var command = from.CreateCommand())
            {
                command.CommandText = lastKey is null ? selectFirst : selectNext;
                AddParameter(command, "@Limit", chunkRows);
                if (lastKey is not null)
                {
                    AddParameter(command, "@LastKey", KeyParameter(key.Kind, lastKey));
                }
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    var row = new object?[table.Columns.Length + skip];
                    for (var i = 0; i < row.Length; i++)
                    {
                        row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
                    }
                    rows.Add(row);
                }
            }
            if (rows.Count == 0)
            {
                return;
            }
            var chunkLastKey = Convert.ToString(rows[^1][0], CultureInfo.InvariantCulture)!;
            await target.WriteAsync(async (connection, transaction) =>
            {
                await using (var importer = await ((NpgsqlConnection)connection).BeginBinaryImportAsync(copyIn, cancellationToken))
                {
                    foreach (var row in rows)
                    {
                        await importer.StartRowAsync(cancellationToken);
                        var values = skip == 0 ? row : row[skip..];
                        for (var i = 0; i < table.Columns.Length; i++)
                        {
                            await WriteValueAsync(importer, table, i, values, cancellationToken);
                        }
                    }
                    await importer.CompleteAsync(cancellationToken);
                }
                return await connection.ExecuteAsync(SaveProgress,
                    new { Source = source.FilePath, Table = table.Name, LastKey = chunkLastKey, Rows = (long)rows.Count }, transaction);
            }, cancellationToken);
            lastKey = chunkLastKey;
            copied += rows.Count;
            progress.Report(new CopyProgress(table.Name, copied, total));
            if (rows.Count < chunkRows)
            {
                return;
            }
        }
    }

    private static object KeyParameter(Kind kind, string key) => kind == Kind.BigInt ? long.Parse(key, CultureInfo.InvariantCulture) : key;

    private static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    private static Task WriteValueAsync(NpgsqlBinaryImporter importer, CopiedTable table, int column, object?[] row, CancellationToken cancellationToken)
    {
        var (name, kind) = table.Columns[column];
        var value = row[column];
        if (value is null)
        {
            return importer.WriteNullAsync(cancellationToken);
        }
        return kind switch
        {
            Kind.BigInt => importer.WriteAsync(Convert.ToInt64(value, CultureInfo.InvariantCulture), NpgsqlDbType.Bigint, cancellationToken),
            Kind.Int => importer.WriteAsync(Convert.ToInt32(value, CultureInfo.InvariantCulture), NpgsqlDbType.Integer, cancellationToken),
            Kind.Real => importer.WriteAsync(Convert.ToDouble(value, CultureInfo.InvariantCulture), NpgsqlDbType.Double, cancellationToken),
            Kind.Bytes => importer.WriteAsync((byte[])value, NpgsqlDbType.Bytea, cancellationToken),
            Kind.Bool => importer.WriteAsync(Convert.ToInt64(value, CultureInfo.InvariantCulture) != 0, NpgsqlDbType.Boolean, cancellationToken),
            Kind.Text => importer.WriteAsync(Convert.ToString(value, CultureInfo.InvariantCulture)!, NpgsqlDbType.Text, cancellationToken),
            Kind.Json => importer.WriteAsync(JsonDocumentText(value), NpgsqlDbType.Jsonb, cancellationToken),
            Kind.Time => DbTime.TryParse(Convert.ToString(value, CultureInfo.InvariantCulture), out var time)
                ? importer.WriteAsync(time.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken)
                : throw new InvalidDataException(
                    $"{table.Name}.{name} of the row with {table.Columns[0].Name} = {row[0]} is '{value}', not a date and time; fix it in the file and copy again."),
            _ => throw new ArgumentOutOfRangeException(nameof(column)),
        };
    }

    /// <summary>JSON text as it is; text that is not JSON (an older tool's mistake) becomes a JSON string, so nothing is lost.</summary>
    private static string JsonDocumentText(object value)
    {
        var text = Convert.ToString(value, CultureInfo.InvariantCulture)!;
        try
        {
            using var _ = JsonDocument.Parse(text);
            return text;
        }
        catch (JsonException)
        {
            return JsonSerializer.Serialize(text);
        }
    }

    private enum Kind { BigInt, Int, Real, Bool, Text, Json, Time, Bytes }

    private sealed record CopiedTable(string Name, (string Name, Kind Kind)[] Columns, bool ByRowId = false)
    {
        public (string Name, Kind Kind) Key => ByRowId ? ("rowid", Kind.BigInt) : Columns[0];
    }
}
