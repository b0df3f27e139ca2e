using System.Text.RegularExpressions;

namespace PostService.Security;

/// <summary>
/// Every request has a correlation id: the client's <c>X-Correlation-Id</c> when it is short and plain, else a new one.
/// It is echoed in the response header, put into every problem+json as <c>correlation_id</c>, and into the logging
/// scope of everything logged while the request runs.
/// </summary>
public static partial class CorrelationId
{
    public const string HeaderName = "X-Correlation-Id";
    public const string ProblemMember = "correlation_id";
    public const int MaxLength = 128;

    private static readonly object ItemKey = new();

    public static string Of(HttpContext context) => context.Items[ItemKey] as string ?? context.TraceIdentifier;

    public static IApplicationBuilder UseCorrelationId(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var id = context.Request.Headers[HeaderName] is [{ } given] && Plain().IsMatch(given) ? given : Guid.NewGuid().ToString("N");
        context.Items[ItemKey] = id;
        // Set when the response starts: an exception handler clears the headers set before.
        context.Response.OnStarting(() =>
        {
            context.Response.Headers[HeaderName] = id;
            return Task.CompletedTask;
        });
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(CorrelationId).FullName!);
        using (logger.BeginScope("CorrelationId:{CorrelationId}", id))
        {
            await next(context);
        }
    });

    // Letters, digits and . _ : - only, so that a client cannot forge log lines or headers with it.
    [GeneratedRegex("^[A-Za-z0-9._:-]{1,128}$")]
    private static partial Regex Plain();
}
