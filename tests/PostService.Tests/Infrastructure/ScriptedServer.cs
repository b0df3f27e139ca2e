using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace PostService.Tests.Infrastructure;

/// <summary>One scripted answer: a status and body, after an optional delay.</summary>
public sealed record ScriptedAnswer(int Status, byte[] Body, TimeSpan Delay = default);

/// <summary>
/// A loopback HTTP server answering each path (without the query) as scripted, for faults the real network cannot show:
/// a PLC directory, a did:web host or a PDS that answers malformed documents, unexpected statuses, or nothing in time.
/// Unscripted paths are 404. It logs the path and query of every request.
/// </summary>
public sealed class ScriptedServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, ScriptedAnswer> _answers = new(StringComparer.Ordinal);

    private ScriptedServer(WebApplication app) => _app = app;

    /// <summary>e.g. <c>http://127.0.0.1:41234</c>, without a trailing slash.</summary>
    public string BaseUrl { get; private set; } = "";

    public ConcurrentQueue<string> Requests { get; } = new();

    public static async Task<ScriptedServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(2));
        var server = new ScriptedServer(builder.Build());
        server._app.Run(server.AnswerAsync);
        await server._app.StartAsync();
        server.BaseUrl = server._app.Services.GetRequiredService<IServer>()
            .Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single().TrimEnd('/');
        return server;
    }

    public ScriptedServer Answer(string path, int status, string body, TimeSpan delay = default) =>
        Answer(path, status, System.Text.Encoding.UTF8.GetBytes(body), delay);

    public ScriptedServer Answer(string path, int status, byte[] body, TimeSpan delay = default)
    {
        _answers[path] = new ScriptedAnswer(status, body, delay);
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
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(answer.Body, context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
