using System.Net;
using System.Net.Http.Json;
using Dapper;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using PostService.Options;
using Microsoft.Extensions.DependencyInjection;

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

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
    }

    /// <summary>
    /// Starts the service on Kestrel at a free loopback port instead of the in-memory test server, for clients that
    /// need a real socket (a browser). <see cref="WebApplicationFactory{T}.CreateClient()"/> then talks to that port.
    /// </summary>
    /// <returns>The base URL, e.g. <c>http://127.0.0.1:41234</c>, without a trailing slash.</returns>
    public string StartOnLoopback()
    {
        UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        StartServer();
        return Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single().TrimEnd('/');
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
