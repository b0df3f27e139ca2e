using System.Text.Json.Serialization;
using PostService.Upstream.Budget;

namespace PostService.Upstream;

/// <summary>One upstream as <see cref="UpstreamRegistration.AddUpstreamApi{TApi, TOptions}"/> registers it.</summary>
/// <param name="Name">Names its resilience pipeline (logs, metrics).</param>
/// <param name="Section">The configuration section its <see cref="UpstreamOptions"/> are bound from.</param>
/// <param name="Json">The source-generated context for its bodies.</param>
public sealed record UpstreamApi(string Name, string Section, JsonSerializerContext Json)
{
    /// <summary>The call budget every attempt takes a permit from, if the upstream has one.</summary>
    public Func<IServiceProvider, RateBudget>? Budget { get; init; }

    /// <summary>Whether a 2xx body can be used; one that cannot is retried like a 5xx. Null: every 2xx can.</summary>
    public Func<HttpContent, CancellationToken, ValueTask<bool>>? IsUsableBody { get; init; }
}
