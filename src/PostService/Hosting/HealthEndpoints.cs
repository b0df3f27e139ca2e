using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using PostService.Storage;

namespace PostService.Hosting;

public static class HealthEndpoints
{
    public sealed record HealthStatus(string Status);

    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("").WithTags("Health");
        group.MapGet("/healthz", Live).WithName("Healthz").WithSummary("The process is up");
        group.MapGet("/readyz", Ready).WithName("Readyz").WithSummary("The database answers a query")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return routes;
    }

    public static Ok<HealthStatus> Live() => TypedResults.Ok(new HealthStatus("up"));

    public static async Task<Results<Ok<HealthStatus>, ProblemHttpResult>> Ready(
        IDbConnectionFactory connections, ILogger<HealthStatus> logger, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await connections.OpenAsync(cancellationToken);
            await connection.ExecuteScalarAsync<long?>(new CommandDefinition("SELECT 1 FROM posts LIMIT 1", cancellationToken: cancellationToken));
            return TypedResults.Ok(new HealthStatus("ready"));
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            logger.LogWarning(exception, "Readiness check failed on {Database}", connections.Description);
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Database unavailable",
                detail: "The database did not answer; see the service log.");
        }
    }
}
