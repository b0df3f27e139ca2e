using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using CsvHelper;
using PostService.Storage;

namespace PostService.Exports;

/// <summary>
/// RFC 4180 CSV (CsvHelper's defaults: CRLF line ends, quotes where needed, no byte order mark) in UTF-8, with a header
/// row. Times are ISO-8601 UTC with milliseconds, lists JSON arrays, booleans true or false, no value an empty field, an empty text <c>""</c>.
/// </summary>
internal sealed class CsvExportWriter(ExportDataset dataset, Stream output) : IExportWriter
{
    private readonly CsvWriter _csv = CsvWriter.Create(output, options: null, leaveOpen: true);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _csv.WriteHeader(dataset.Columns.Select(column => column.Name).ToArray());
        await _csv.FlushAsync(cancellationToken);
    }

    public async ValueTask WriteRowAsync(DbDataReader row, CancellationToken cancellationToken)
    {
        for (var ordinal = 0; ordinal < dataset.Columns.Count; ordinal++)
        {
            switch (dataset.Columns[ordinal].Type)
            {
                case ExportColumnType.Int64:
                    _csv.WriteField(ExportValues.Int64(row, ordinal), "");
                    break;
                case ExportColumnType.Timestamp:
                    _csv.WriteField(ExportValues.Timestamp(row, ordinal) is { } time ? DbTime.ToText(time) : null);
                    break;
                case ExportColumnType.Boolean:
                    _csv.WriteField(ExportValues.Boolean(row, ordinal) is { } flag ? (flag ? "true" : "false") : null);
                    break;
                case ExportColumnType.SecondsBetween:
                    _csv.WriteField(ExportValues.SecondsBetween(row, ordinal)?.ToString("R", CultureInfo.InvariantCulture));
                    break;
                case ExportColumnType.TextList:
                    _csv.WriteField(ExportValues.TextList(row, ordinal) is { } list ? JsonSerializer.Serialize(list) : null);
                    break;
                default:
                    var text = ExportValues.Text(row, ordinal);
                    // Quoted when empty, so readers tell an empty text ("") from no value (an empty field).
                    _csv.WriteField(text, text is "" ? CsvQuoting.Always : CsvQuoting.WhenNeeded);
                    break;
            }
        }
        await _csv.EndRecordAsync(cancellationToken);
    }

    public async Task CompleteAsync(CancellationToken cancellationToken) => await _csv.FlushAsync(cancellationToken);

    public ValueTask DisposeAsync() => _csv.DisposeAsync();
}
