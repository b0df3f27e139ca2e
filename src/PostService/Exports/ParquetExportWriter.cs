using System.Data.Common;
using Parquet;
using Parquet.Schema;

namespace PostService.Exports;

/// <summary>
/// Parquet with typed columns (UTC millisecond timestamps, INT64, DOUBLE, BOOLEAN, LIST&lt;STRING&gt;), Snappy-compressed, which every
/// reader (DuckDB, pyarrow, R arrow, Spark) decodes. Rows are held per column until a row group is full, then written
/// and sent: memory stays at one row group however long the export.
/// </summary>
internal sealed class ParquetExportWriter : IExportWriter
{
    private readonly Stream _output;
    private readonly int _rowGroupSize;
    private readonly ParquetColumn[] _columns;
    private readonly ParquetSchema _schema;
    private ParquetWriter? _writer;
    private int _buffered;

    public ParquetExportWriter(ExportDataset dataset, Stream output, int rowGroupSize)
    {
        // The response body cannot seek; Parquet.Net only needs to know how far it has written.
        _output = new ForwardOnlyStream(output);
        _rowGroupSize = rowGroupSize;
        _columns = dataset.Columns.Select(ParquetColumn.For).ToArray();
        _schema = new ParquetSchema(_columns.Select(column => column.Field));
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _writer = await ParquetWriter.CreateAsync(_schema, _output,
            new ParquetOptions { CompressionMethod = CompressionMethod.Snappy }, cancellationToken: cancellationToken);
        await _output.FlushAsync(cancellationToken);
    }

    public async ValueTask WriteRowAsync(DbDataReader row, CancellationToken cancellationToken)
    {
        for (var ordinal = 0; ordinal < _columns.Length; ordinal++)
        {
            _columns[ordinal].Add(row, ordinal);
        }
        if (++_buffered == _rowGroupSize)
        {
            await WriteRowGroupAsync(cancellationToken);
        }
    }

    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        if (_buffered > 0)
        {
            await WriteRowGroupAsync(cancellationToken);
        }
        // The footer is written when the writer is disposed.
        await _writer!.DisposeAsync();
        _writer = null;
        await _output.FlushAsync(cancellationToken);
    }

    private async Task WriteRowGroupAsync(CancellationToken cancellationToken)
    {
        using (var group = _writer!.CreateRowGroup())
        {
            foreach (var column in _columns)
            {
                await column.WriteAsync(group, cancellationToken);
            }
            group.CompleteValidate();
        }
        _buffered = 0;
        await _output.FlushAsync(cancellationToken);
    }

    // An export that failed part-way is left without its footer: readers refuse the file rather than take it for complete.
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>One column's values of the row group being filled.</summary>
    private abstract class ParquetColumn
    {
        public abstract Field Field { get; }

        public abstract void Add(DbDataReader row, int ordinal);

        /// <summary>Writes the buffered values and empties the buffer.</summary>
        public abstract Task WriteAsync(ParquetRowGroupWriter group, CancellationToken cancellationToken);

        public static ParquetColumn For(ExportColumn column) => column.Type switch
        {
            ExportColumnType.Timestamp => new ValueColumn<DateTime>(
                new DateTimeDataField(column.Name, DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Millis, isNullable: true),
                ExportValues.Timestamp),
            ExportColumnType.Int64 => new ValueColumn<long>(new DataField<long?>(column.Name), ExportValues.Int64),
            ExportColumnType.Boolean => new ValueColumn<bool>(new DataField<bool?>(column.Name), ExportValues.Boolean),
            ExportColumnType.SecondsBetween => new ValueColumn<double>(new DataField<double?>(column.Name), ExportValues.SecondsBetween),
            ExportColumnType.TextList => new TextListColumn(column.Name),
            _ => new TextColumn(column.Name),
        };
    }

    private sealed class ValueColumn<T>(DataField dataField, Func<DbDataReader, int, T?> read) : ParquetColumn where T : struct
    {
        private readonly List<T?> _values = [];

        public override Field Field => dataField;

        public override void Add(DbDataReader row, int ordinal) => _values.Add(read(row, ordinal));

        public override async Task WriteAsync(ParquetRowGroupWriter group, CancellationToken cancellationToken)
        {
            await group.WriteAsync<T>(dataField, _values.ToArray(), cancellationToken: cancellationToken);
            _values.Clear();
        }
    }

    private sealed class TextColumn(string name) : ParquetColumn
    {
        private readonly DataField _field = new DataField<string>(name, nullable: true);
        private readonly List<string?> _values = [];

        public override Field Field => _field;

        public override void Add(DbDataReader row, int ordinal) => _values.Add(ExportValues.Text(row, ordinal));

        public override async Task WriteAsync(ParquetRowGroupWriter group, CancellationToken cancellationToken)
        {
            await group.WriteAsync(_field, _values);
            _values.Clear();
        }
    }

    /// <summary>
    /// An optional list of required strings, written as its Dremel levels: definition 0 for no list, 1 for an empty
    /// one, 2 for an element; repetition 1 for each element after a list's first.
    /// </summary>
    private sealed class TextListColumn : ParquetColumn
    {
        private readonly ListField _list;
        private readonly DataField _element = new DataField<string>("element", nullable: false);
        private readonly List<ReadOnlyMemory<char>> _values = [];
        private readonly List<int> _definitions = [];
        private readonly List<int> _repetitions = [];

        public TextListColumn(string name) => _list = new ListField(name, _element);

        public override Field Field => _list;

        public override void Add(DbDataReader row, int ordinal)
        {
            var items = ExportValues.TextList(row, ordinal);
            if (items is null || items.Length == 0)
            {
                _definitions.Add(items is null ? 0 : 1);
                _repetitions.Add(0);
                return;
            }
            for (var index = 0; index < items.Length; index++)
            {
                _values.Add(items[index].AsMemory());
                _definitions.Add(2);
                _repetitions.Add(index == 0 ? 0 : 1);
            }
        }

        public override async Task WriteAsync(ParquetRowGroupWriter group, CancellationToken cancellationToken)
        {
            await group.WriteAllPartsAsync<ReadOnlyMemory<char>>(
                _element, _values.ToArray(), _definitions.ToArray(), _repetitions.ToArray(), cancellationToken);
            _values.Clear();
            _definitions.Clear();
            _repetitions.Clear();
        }
    }

    /// <summary>Passes writes through and counts them, for a writer that asks for its position on a stream that cannot seek.</summary>
    private sealed class ForwardOnlyStream(Stream inner) : Stream
    {
        private long _written;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _written;
        public override long Position { get => _written; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count)
        {
            inner.Write(buffer, offset, count);
            _written += count;
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(buffer, cancellationToken);
            _written += buffer.Length;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        // Parquet.Net flushes synchronously after each page, which a response body refuses; this writer flushes
        // asynchronously after each row group instead.
        public override void Flush() { }
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
