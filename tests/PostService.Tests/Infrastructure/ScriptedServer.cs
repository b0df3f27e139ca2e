using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace PostService.Tests.Infrastructure;

/// <summary>One scripted answer: a status and body, after an optional delay.</summary>
public sealed record ScriptedAnswer(int Status, byte[] Body, TimeSpan Delay = default)
{
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// A loopback HTTP server answering each path (without the query) as scripted, for faults the real network cannot show:
/// a PLC directory, a did:web host or a PDS that answers malformed documents, unexpected statuses, or nothing in time.
/// Unscripted paths are 404. It logs the path and query of every request.
/// </summary>
public sealed class ScriptedServer : IAsyncDisposable
{
    private WebApplication _app = null!;
    private readonly ConcurrentDictionary<string, ScriptedAnswer> _answers = new(StringComparer.Ordinal);

    private ScriptedServer()
    {
    }

    /// <summary>e.g. <c>http://127.0.0.1:41234</c>, without a trailing slash.</summary>
    public string BaseUrl { get; private set; } = "";

    public ConcurrentQueue<string> Requests { get; } = new();

    public static async Task<ScriptedServer> StartAsync()
    {
        var server = new ScriptedServer();
        (server._app, server.BaseUrl) = await LoopbackServer.StartAsync(app => app.Run(server.AnswerAsync), TimeSpan.FromSeconds(2));
        return server;
    }

    public ScriptedServer Answer(string path, int status, string body, TimeSpan delay = default) =>
        Answer(path, status, System.Text.Encoding.UTF8.GetBytes(body), delay);

    public ScriptedServer Answer(string path, int status, byte[] body, TimeSpan delay = default)
    {
        _answers[path] = new ScriptedAnswer(status, body, delay);
        return this;
    }

    /// <summary>The answer already scripted for <paramref name="path"/>, with these response headers too.</summary>
    public ScriptedServer WithHeaders(string path, params (string Name, string Value)[] headers)
    {
        _answers[path] = _answers[path] with { Headers = headers.ToDictionary(header => header.Name, header => header.Value) };
        return this;
    }

    private async Task AnswerAsync(HttpContext context)
    {
        Requests.Enqueue(context.Request.Path + context.Request.QueryString);
        if (!_answers.TryGetValue(context.Request.Path.Value ?? "", out var answer))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        try
        {
            await Task.Delay(answer.Delay, context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        context.Response.StatusCode = answer.Status;
        foreach (var (name, value) in answer.Headers)
        {
            context.Response.Headers[name] = value;
        }
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(answer.Body, context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
