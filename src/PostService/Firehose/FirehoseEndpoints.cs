using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using PostService.Security;

namespace PostService.Firehose;

/// <summary>The consumer as <c>GET /firehose/status</c> shows it. Times in seconds.</summary>
/// <param name="Enabled">Whether this instance runs the hosted consumer.</param>
/// <param name="State">stopped, standby (another replica consumes the URL), connecting, connected or reconnecting.</param>
/// <param name="Cursor">The seq of the last event applied (or, before any, the checkpoint resumed from).</param>
/// <param name="LagSeconds">How long ago, by the firehose's clock, the last applied event happened.</param>
/// <param name="PostsCached">Rows in <c>firehose_posts</c>, from every process sharing the database.</param>
public sealed record FirehoseStatusResponse(
    bool Enabled, FirehoseState State, bool Connected, string Url, long? Cursor, long EventsApplied, double EventsPerSecond,
    double? LagSeconds, long PostsCached, long FramesSkipped, string? LastError);

public static class FirehoseEndpoints
{
    public static IEndpointRouteBuilder MapFirehose(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/firehose/status", GetStatus)
            .WithTags("Firehose")
            .WithName("GetFirehoseStatus")
            .WithSummary("The firehose consumer: connected or not, URL, cursor, events applied, events/s, lag behind live, posts cached")
            .WithApiAccess(ApiAccess.Read);
        return routes;
    }

    public static async Task<Ok<FirehoseStatusResponse>> GetStatus(
        FirehoseStatus status, FirehoseStore store, IOptions<FirehoseOptions> options, CancellationToken cancellationToken)
    {
        var url = status.Url ?? FirehoseConsumer.SubscribeUrl(options.Value.Url);
        return TypedResults.Ok(new FirehoseStatusResponse(
            options.Value.Enabled, status.State, status.State == FirehoseState.Connected, url, status.Cursor, status.EventsApplied,
            Math.Round(status.EventsPerSecond, 1), status.Lag is { } lag ? Math.Round(lag.TotalSeconds, 3) : null,
            await store.CountCachedPostsAsync(cancellationToken), status.FramesSkipped, status.LastError));
    }
}
