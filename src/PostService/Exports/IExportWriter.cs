using System.Data.Common;

namespace PostService.Exports;

/// <summary>Writes a dataset's rows to a stream in one file format, as they are read.</summary>
internal interface IExportWriter : IAsyncDisposable
{
    /// <summary>Writes the file's beginning and sends it, so the response starts before the first row is found.</summary>
    Task StartAsync(CancellationToken cancellationToken);

    /// <summary>Adds the reader's current row; columns are in the dataset's order.</summary>
    ValueTask WriteRowAsync(DbDataReader row, CancellationToken cancellationToken);

    /// <summary>Writes what is buffered and the file's end; without it the file is incomplete.</summary>
    Task CompleteAsync(CancellationToken cancellationToken);
}
