using System.Data.Common;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PostService.Storage;

namespace PostService.Tests.Infrastructure;

/// <summary>
/// The real service pipeline over a real database: a SQLite file in a fresh temporary folder unless a
/// <see cref="TestDatabase"/> is given. Settings are given as configuration keys, the same ones an operator sets
/// through environment variables.
/// </summary>
public sealed class PostServiceFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;
    private readonly bool _ownsDatabase;

    /// <param name="database">A database the caller owns (to restart a service on it); else a fresh one of <paramref name="provider"/>.</param>
    public PostServiceFactory(IDictionary<string, string?>? settings = null, TestDatabase? database = null, DatabaseProvider provider = DatabaseProvider.Sqlite)
    {
        _ownsDatabase = database is null;
        Database = database ?? TestDatabase.Create(provider);
        _settings = new Dictionary<string, string?>(Database.Settings) { ["PostService:Hydration:Enabled"] = "false" };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }
    }

    public TestDatabase Database { get; }

    /// <summary>The SQLite file (null on PostgreSQL).</summary>
    public string? DatabasePath => Database.Path;

    /// <summary>Everything the service logged, with scopes.</summary>
    public LogCapture Logs { get; } = new();

    /// <summary>
    /// The remote address of requests through the in-memory test server, which has none of its own: loopback, like a
    /// client on the same machine, unless a test sets another (or a request sets its own with <c>Server.SendAsync</c>).
    /// Kestrel (<see cref="StartOnLoopback"/>) reports the real address instead.
    /// </summary>
    public IPAddress ClientAddress { get; init; } = IPAddress.Loopback;

    /// <summary>Services a test adds to the service's own (an in-memory trace exporter), applied when the server starts.</summary>
    public Action<IServiceCollection>? ConfigureTestServices { get; init; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
        builder.ConfigureServices(services =>
        {
            services.AddSingleton<IStartupFilter>(new ClientAddressStartupFilter(() => ClientAddress));
            ConfigureTestServices?.Invoke(services);
        });
    }

    private sealed class ClientAddressStartupFilter(Func<IPAddress> address) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                context.Connection.RemoteIpAddress ??= address();
                return nextMiddleware(context);
            });
            next(app);
        };
    }

    /// <summary>
    /// Starts the service on Kestrel at a free loopback port instead of the in-memory test server, for clients that
    /// need a real socket (a browser). <see cref="WebApplicationFactory{T}.CreateClient()"/> then talks to that port.
    /// </summary>
    /// <returns>The base URL, e.g. <c>http://127.0.0.1:41234</c>, without a trailing slash.</returns>
    public string StartOnLoopback() => StartOn(IPAddress.Loopback);

    /// <summary>Like <see cref="StartOnLoopback"/>, on a port of the given local address.</summary>
    public string StartOn(IPAddress address)
    {
        UseKestrel(kestrel => kestrel.Listen(address, 0));
        StartServer();
        return Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single().TrimEnd('/');
    }

    /// <summary>
    /// A client of the service whose every exchange is checked against the OpenAPI document
    /// (<see cref="OpenApiConformanceHandler"/>), following redirects and keeping cookies as the default client does.
    /// </summary>
    public new HttpClient CreateClient() =>
        CreateDefaultClient(ClientOptions.BaseAddress, new RedirectHandler(), new CookieContainerHandler(), new OpenApiConformanceHandler());

    /// <summary>A client that sends <paramref name="apiKey"/> in X-Api-Key with every request (none when null).</summary>
    public HttpClient CreateClient(string? apiKey)
    {
        var client = CreateClient();
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        }
        return client;
    }

    /// <summary>A second connection to the same database, for checking what was really stored.</summary>
    public DbConnection OpenDatabase() => Database.Open();

    public long Count(string sql, object? parameters = null) => Database.Count(sql, parameters);

    public async Task<HttpResponseMessage> PostRetrievalsAsync(object body, HttpClient? client = null) =>
        await (client ?? CreateClient()).PostAsJsonAsync("/feed-retrievals", body);

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        SqliteConnection.ClearAllPools();
        if (_ownsDatabase)
        {
            Database.Dispose();
        }
    }
}
