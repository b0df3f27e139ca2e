using Dapper;
using Microsoft.Extensions.Options;
using PostService.Storage;

namespace PostService.Exports;

/// <summary>Streams a dataset from the database into a file format, row by row: nothing waits for the whole result.</summary>
public sealed class Exporter(IDbConnectionFactory connections, IOptions<ExportOptions> options)
{
    /// <summary>How often <see cref="WriteAsync"/> reports the rows written so far.</summary>
    public const int ProgressEvery = 10_000;

    /// <summary>The rows an export with <paramref name="filter"/> would write, for a progress bar.</summary>
    public async Task<long> CountAsync(ExportDataset dataset, ExportFilter filter, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(dataset.CountSql, filter, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Writes the rows of <paramref name="dataset"/> selected by <paramref name="filter"/> to <paramref name="output"/>
    /// (which need not seek) and returns how many there were. Should it fail, what was written is an incomplete file.
    /// </summary>
    public async Task<long> WriteAsync(ExportDataset dataset, ExportFormat format, ExportFilter filter, Stream output,
        IProgress<long>? progress, CancellationToken cancellationToken)
    {
        await using IExportWriter writer = format == ExportFormat.Parquet
            ? new ParquetExportWriter(dataset, output, options.Value.RowGroupSize)
            : new CsvExportWriter(dataset, output);
        await writer.StartAsync(cancellationToken);
        await using var connection = await connections.OpenAsync(cancellationToken);
        await using var reader = await connection.ExecuteReaderAsync(
            new CommandDefinition(dataset.SelectSql, filter, cancellationToken: cancellationToken));
        long rows = 0;
        while (await reader.ReadAsync(cancellationToken))
        {
            await writer.WriteRowAsync(reader, cancellationToken);
            if (++rows % ProgressEvery == 0)
            {
                progress?.Report(rows);
            }
        }
        await writer.CompleteAsync(cancellationToken);
        progress?.Report(rows);
        return rows;
    }
}
