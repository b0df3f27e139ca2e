using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace PostService.Security;

/// <summary>
/// Inbound rate limits: a fixed window per client and kind of request. A client is the API key it sends when that key
/// is valid (a made-up key cannot buy a fresh allowance), else its remote address.
/// </summary>
public static class ClientRateLimiting
{
    private const string ReadsPolicy = "reads";
    private const string WritesPolicy = "writes";

    public static string PolicyFor(ApiAccess access) => access == ApiAccess.Write ? WritesPolicy : ReadsPolicy;

    public static IServiceCollection AddClientRateLimiting(this IServiceCollection services)
    {
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        return services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.AddPolicy(ReadsPolicy, http => PerClient(http, ReadsPolicy, options => options.ReadsPerWindow));
            limiter.AddPolicy(WritesPolicy, http => PerClient(http, WritesPolicy, options => options.WritesPerWindow));
            limiter.OnRejected = RejectAsync;
        });
    }

    private static RateLimitPartition<string> PerClient(HttpContext http, string policy, Func<RateLimitOptions, int> permits)
    {
        var options = http.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;
        var client = http.RequestServices.GetRequiredService<ApiKeyRing>().Match(http.Request) is { } key
            ? $"key:{key}"
            : $"ip:{ClientAddress.Of(http)?.ToString() ?? "unknown"}";
        return RateLimitPartition.GetFixedWindowLimiter($"{policy}|{client}", _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = permits(options),
            Window = TimeSpan.FromSeconds(options.WindowSeconds),
            QueueLimit = 0,
        });
    }

    private static async ValueTask RejectAsync(OnRejectedContext context, CancellationToken cancellationToken)
    {
        var http = context.HttpContext;
        var detail = "This client has sent too many requests";
        if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
            http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            detail += $"; try again in {seconds} s";
        }
        http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ClientRateLimiting).FullName!)
            .LogInformation("Rate limited {Method} {Path} from {Client}", http.Request.Method, http.Request.Path, ClientAddress.Describe(http));
        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = { Status = StatusCodes.Status429TooManyRequests, Title = "Too many requests", Detail = detail + "." },
        });
    }
}
