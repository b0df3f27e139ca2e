using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace PostService.Bench;

/// <summary>Resident memory of a process, from <c>/proc/&lt;pid&gt;/status</c>: now and its high-water mark.</summary>
public readonly record struct ResidentMemory(long RssKiB, long PeakKiB)
{
    public double RssMiB => RssKiB / 1024.0;

    public double PeakMiB => PeakKiB / 1024.0;
}

/// <summary>
/// The real service executable (<c>postservice serve</c>, built next to the bench) in its own process on a loopback
/// port, configured through environment variables as an operator would: its memory is its own, and load generators
/// do not share its runtime.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Queue<string> _lastOutput = new();

    private ServiceProcess(Process process, string baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
        Client = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromMinutes(5) };
    }

    /// <summary>e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string BaseUrl { get; }

    public int Id => _process.Id;

    public HttpClient Client { get; }

    /// <summary>Starts the service with <paramref name="settings"/> (configuration keys) and waits until <c>/readyz</c> answers.</summary>
    public static async Task<ServiceProcess> StartAsync(IDictionary<string, string?> settings)
    {
        var baseUrl = $"http://127.0.0.1:{FreeLoopbackPort()}";
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "postservice.dll"), "serve", "--urls", baseUrl },
            // The content root, as when deployed: the configuration file watcher watches this folder, not the caller's.
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        // One loopback client sends all the load: the per-client limits stay in the pipeline but do not bind.
        start.Environment["PostService__RateLimit__ReadsPerWindow"] = "10000000";
        start.Environment["PostService__RateLimit__WritesPerWindow"] = "10000000";
        // The fake AppView's authors have no PDS or DID document: asking why a post was left out would only time out
        // against the real PLC directory, as in the tests (HydratingService).
        start.Environment["PostService__Identity__ExplainNotFound"] = "false";
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        var service = new ServiceProcess(process, baseUrl);
        process.OutputDataReceived += (_, line) => service.Remember(line.Data);
        process.ErrorDataReceived += (_, line) => service.Remember(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(120))
        {
            if (process.HasExited)
            {
                break;
            }
            try
            {
                using var ready = await service.Client.GetAsync("/readyz");
                if (ready.IsSuccessStatusCode)
                {
                    return service;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            await Task.Delay(200);
        }
        var output = service.LastOutput();
        await service.DisposeAsync();
        throw new InvalidOperationException($"The service did not become ready at {baseUrl}. Its last output:\n{output}");
    }

    /// <summary>The processor time the service process has used so far, all its threads.</summary>
    public TimeSpan ProcessorTime()
    {
        _process.Refresh();
        return _process.TotalProcessorTime;
    }

    /// <summary>VmRSS and VmHWM of the service process.</summary>
    public ResidentMemory Memory()
    {
        long Field(string[] lines, string name) => long.Parse(
            lines.Single(line => line.StartsWith(name + ":", StringComparison.Ordinal))[(name.Length + 1)..].Trim().Split(' ')[0],
            CultureInfo.InvariantCulture);
        var status = File.ReadAllLines($"/proc/{_process.Id}/status");
        return new ResidentMemory(Field(status, "VmRSS"), Field(status, "VmHWM"));
    }

    /// <summary>The last lines the service wrote, for an error message.</summary>
    public string LastOutput()
    {
        lock (_lastOutput)
        {
            return string.Join('\n', _lastOutput);
        }
    }

    /// <summary>SIGTERM, so the service shuts down as in production (checkpointing its file); killed after 30 s.</summary>
    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await term.WaitForExitAsync();
            }
            using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _process.WaitForExitAsync(patience.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill();
            }
        }
        _process.Dispose();
    }

    private void Remember(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_lastOutput)
        {
            _lastOutput.Enqueue(line);
            if (_lastOutput.Count > 40)
            {
                _lastOutput.Dequeue();
            }
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
