namespace PostService.Storage;

/// <summary>
/// The small differences between the SQLite and the PostgreSQL SQL that repositories share; where the two stores need
/// different statements altogether, each has its own class behind one interface (chosen at start, see
/// <c>StorageRegistration.AddPerStore</c>). Everything else is written once:
/// both stores know the functions <c>to_ts(text)</c>, <c>ts_text(timestamp)</c> and <c>to_json_doc(text)</c> (identities on
/// SQLite, where times are ISO-8601 text and JSON is text; casts to and from <c>timestamptz</c>/<c>jsonb</c> on PostgreSQL),
/// so a repository passes and reads times as the same ISO-8601 UTC text on both.
/// </summary>
public sealed class SqlDialect
{
    public static readonly SqlDialect Sqlite = new(DatabaseProvider.Sqlite);

    public static readonly SqlDialect Postgres = new(DatabaseProvider.Postgres);

    private SqlDialect(DatabaseProvider provider) => Provider = provider;

    public DatabaseProvider Provider { get; }

    public bool IsPostgres => Provider == DatabaseProvider.Postgres;

    /// <summary>
    /// "<paramref name="column"/> is one of the values of <paramref name="parameter"/>": Dapper expands a list into
    /// <c>IN (@p1, @p2, ...)</c> on SQLite; on PostgreSQL it passes an array, which only <c>= ANY</c> accepts.
    /// </summary>
    public string IsAnyOf(string column, string parameter) => IsPostgres ? $"{column} = ANY({parameter})" : $"{column} IN {parameter}";

    /// <summary>A list parameter in the shape <see cref="IsAnyOf"/> expects.</summary>
    public IEnumerable<string> List(IEnumerable<string> values) => IsPostgres ? values.ToArray() : values.ToList();

    /// <summary>
    /// Appended to the row selection of a claim: other replicas skip the rows one is claiming instead of waiting for them.
    /// SQLite has one writer at a time, so its claims cannot overlap.
    /// </summary>
    public string SkipLockedRows => IsPostgres ? "FOR UPDATE SKIP LOCKED" : "";

    /// <summary>
    /// The column that orders posts as they were first stored, which the index on <c>hydration_status</c> follows
    /// (see <c>M015_StatusIndexInStorageOrder</c>): SQLite's rowid, which every row has however it was inserted;
    /// PostgreSQL's <c>post_id</c>, which its identity default gives every row.
    /// </summary>
    public string StorageOrder => IsPostgres ? "post_id" : "rowid";

    /// <summary>
    /// The start of the UTC hour of the time in <paramref name="column"/>: SQLite keeps times as ISO-8601 text, so the hour
    /// is the text up to it; PostgreSQL truncates the <c>timestamptz</c> in UTC.
    /// </summary>
    public string HourOf(string column) => IsPostgres
        ? $"date_trunc('hour', {column} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
        : $"substr({column}, 1, 13) || ':00:00.000Z'";

    /// <summary>
    /// After a table name: read it through the index <paramref name="index"/>. SQLite, without statistics (no ANALYZE),
    /// prefers an index the WHERE clause names a column of over a partial index that serves the query alone; PostgreSQL
    /// plans from its statistics and takes no hint.
    /// </summary>
    public string ReadThrough(string index) => IsPostgres ? "" : $"INDEXED BY {index}";
}
