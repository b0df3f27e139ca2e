using System.ComponentModel.DataAnnotations;

namespace PostService.Hosting;

/// <summary>How the service stops on SIGTERM or Ctrl+C. Bound from <c>PostService:Shutdown</c>.</summary>
public sealed class ShutdownOptions
{
    public const string Section = "PostService:Shutdown";

    /// <summary>
    /// How long in-flight HTTP requests and AppView calls get to finish (and be recorded) after a stop signal;
    /// the host's shutdown timeout. What is still running then is abandoned, leaving nothing half-written.
    /// </summary>
    [Range(1, 3_600)]
    public int GracePeriodSeconds { get; set; } = 30;
}
