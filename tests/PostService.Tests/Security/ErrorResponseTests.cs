using System.Net;
using Dapper;
using Microsoft.Extensions.Logging;
using PostService.Tests.Builders;
using PostService.Tests.Infrastructure;

namespace PostService.Tests.Security;

public sealed class ErrorResponseTests : IDisposable
{
    private readonly PostServiceFactory _service = new();

    public void Dispose() => _service.Dispose();

    [Fact]
    public async Task EveryProblemCarriesTheCorrelationIdOfItsResponseHeader()
    {
        var client = _service.CreateClient();

        foreach (var response in new[]
                 {
                     await client.GetAsync("/posts/at://did:plc:nobody/app.bsky.feed.post/x"),
                     await client.GetAsync("/posts?limit=0"),
                     await client.PostJsonTextAsync("/feed-retrievals", "{"),
                     await client.GetAsync("/no-such-endpoint"),
                 })
        {
            var problem = await response.AssertProblemAsync(response.StatusCode);
            var header = Assert.Single(response.Headers.GetValues("X-Correlation-Id"));
            Assert.Equal(32, header.Length);
            Assert.Equal(header, problem.GetProperty("correlation_id").GetString());
        }
    }

    [Fact]
    public async Task AClientsCorrelationIdIsEchoedAndAnUnsafeOneIsReplaced()
    {
        var given = await Send("bot-batch-42:attempt.1");
        var forged = await Send("x\r\nSet-Cookie: a=b");
        var tooLong = await Send(new string('a', 129));

        Assert.Equal("bot-batch-42:attempt.1", given);
        Assert.NotEqual("x\r\nSet-Cookie: a=b", forged);
        Assert.Equal(32, tooLong.Length);

        async Task<string> Send(string correlationId)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/posts?limit=0");
            request.Headers.TryAddWithoutValidation("X-Correlation-Id", correlationId);
            var response = await _service.CreateClient().SendAsync(request);
            var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
            var header = Assert.Single(response.Headers.GetValues("X-Correlation-Id"));
            Assert.Equal(header, problem.GetProperty("correlation_id").GetString());
            return header;
        }
    }

    [Fact]
    public async Task LogLinesWrittenDuringARequestCarryItsCorrelationId()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/feed-retrievals")
        {
            Content = RetrievalBuilder.Batch(new RetrievalBuilder().WithPosts(2)).AsJson(),
        };
        request.Headers.Add("X-Correlation-Id", "trace-me-1");

        (await _service.CreateClient().SendAsync(request)).EnsureSuccessStatusCode();

        var stored = Assert.Single(_service.Logs.Entries, entry => entry.Message.StartsWith("Stored 1 feed requests"));
        Assert.Equal("trace-me-1", stored.Scope["CorrelationId"]);
    }

    /// <summary>A broken database is the realistic unhandled failure: its exception message quotes SQL and table names.</summary>
    [Theory]
    [InlineData("Development")]
    [InlineData("Production")]
    public async Task AnUnhandledFailureIsAGeneric500ProblemWithoutStackTraceOrSql(string environment)
    {
        using var service = new PostServiceFactory(new Dictionary<string, string?> { ["environment"] = environment });
        var client = service.CreateClient();
        (await service.PostRetrievalsAsync(RetrievalBuilder.Batch(new RetrievalBuilder().WithPosts(1)))).EnsureSuccessStatusCode();
        using (var db = service.OpenDatabase())
        {
            db.Execute("ALTER TABLE posts RENAME TO posts_moved_away");
        }

        var response = await client.GetAsync("/posts?status=ok");

        var problem = await response.AssertProblemAsync(HttpStatusCode.InternalServerError);
        var body = problem.GetRawText();
        foreach (var leak in new[] { "SELECT", "posts", "SQLite", "Exception", " at ", ".cs" })
        {
            Assert.DoesNotContain(leak, body, StringComparison.OrdinalIgnoreCase);
        }
        var correlationId = problem.GetProperty("correlation_id").GetString();
        Assert.Equal(correlationId, Assert.Single(response.Headers.GetValues("X-Correlation-Id")));
        var logged = Assert.Single(service.Logs.Entries, entry => entry.Level == LogLevel.Error && entry.Exception is not null);
        Assert.Contains("no such table: posts", logged.Exception);
        Assert.Equal(correlationId, logged.Scope["CorrelationId"]);
        await client.GetOkJsonAsync("/healthz");
    }
}
