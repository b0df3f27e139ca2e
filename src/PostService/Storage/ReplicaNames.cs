namespace PostService.Storage;

/// <summary>Names of processes that share one database.</summary>
public static class ReplicaNames
{
    /// <summary>The host name, process id and a random suffix: distinct even for two services in one process.</summary>
    public static string NewDefault() => $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
}
