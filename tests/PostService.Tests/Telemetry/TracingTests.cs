using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using PostService.Storage;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Telemetry;

[Collection(ProcessWideTelemetry.Name)]
public abstract class TracingTests(DatabaseProvider provider)
{
    public sealed class OnSqlite() : TracingTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgres() : TracingTests(DatabaseProvider.Postgres), IRunsOnPostgres;

    private readonly List<Activity> _spans = [];

    [DatabaseFact]
    public async Task AnIngestRequestIsOneTraceWithItsDatabaseWritesAsChildSpans()
    {
        using var service = new PostServiceFactory(provider: provider)
        {
            ConfigureTestServices = services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(_spans)),
        };

        // The trace is the caller's: the exporter also sees the spans of other tests' services in this process.
        var traceId = ActivityTraceId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/feed-retrievals")
        {
            Content = RetrievalBuilder.Batch(new RetrievalBuilder().WithPosts(3)).AsJson(),
        };
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");

        (await service.CreateClient().SendAsync(request)).EnsureSuccessStatusCode();

        List<Activity> trace = [];
        await Eventually.TrueAsync(() =>
        {
            lock (_spans)
            {
                trace = _spans.Where(span => span.TraceId == traceId).ToList();
            }
            return trace.Any(span => span.Kind == ActivityKind.Server);
        }, "the request's span has ended");
        var server = Assert.Single(trace, span => span.Kind == ActivityKind.Server);
        Assert.Equal("POST /feed-retrievals", server.DisplayName);
        // PostgreSQL stores a request's posts in a write of their own, before its rows (PostgresRetrievalStore).
        var writes = trace.Where(span => span.OperationName == "db.write").ToList();
        Assert.Equal(provider == DatabaseProvider.Postgres ? 2 : 1, writes.Count);
        Assert.All(writes, write =>
        {
            Assert.Equal(server.SpanId, write.ParentSpanId);
            Assert.Equal(provider == DatabaseProvider.Postgres ? "postgresql" : "sqlite", write.GetTagItem("db.system.name"));
            if (provider == DatabaseProvider.Postgres)
            {
                // Npgsql's own spans for the statements, inside the write.
                Assert.Contains(trace, span => span.ParentSpanId == write.SpanId && span.Kind == ActivityKind.Client);
            }
        });
        Assert.Equal(200, server.GetTagItem("http.response.status_code"));
    }
}
