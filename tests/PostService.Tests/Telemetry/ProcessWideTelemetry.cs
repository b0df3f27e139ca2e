namespace PostService.Tests.Telemetry;

/// <summary>
/// Meters and activity sources are seen process-wide: a service's metrics would count the requests and hydrations of
/// other tests' services running at the same time. The tests that read them run alone, after the others.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideTelemetry
{
    public const string Name = "Process-wide telemetry";
}
