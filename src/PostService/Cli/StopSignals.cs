using System.Runtime.InteropServices;

namespace PostService.Cli;

/// <summary>
/// Ctrl+C (SIGINT) and SIGTERM cancel <see cref="Token"/> instead of killing the process, so that a verb can stop cleanly:
/// calls in flight cancelled and waited for, nothing half-written.
/// </summary>
internal sealed class StopSignals : IDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;

    public StopSignals(CancellationToken cancellationToken)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
    }

    public CancellationToken Token => _stop.Token;

    public bool IsStopped => _stop.IsCancellationRequested;

    private void Stop(PosixSignalContext signal)
    {
        signal.Cancel = true;
        _stop.Cancel();
    }

    public void Dispose()
    {
        _interrupt.Dispose();
        _terminate.Dispose();
        _stop.Dispose();
    }
}
