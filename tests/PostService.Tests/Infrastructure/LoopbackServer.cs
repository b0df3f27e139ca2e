using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace PostService.Tests.Infrastructure;

/// <summary>A real HTTP server for fakes of upstream services: Kestrel on a free loopback port, without logging.</summary>
public static class LoopbackServer
{
    /// <summary>Starts a server whose endpoints <paramref name="map"/> adds; returns it with its base URL (no trailing slash).</summary>
    public static async Task<(WebApplication App, string BaseUrl)> StartAsync(Action<WebApplication> map, TimeSpan shutdownTimeout)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = shutdownTimeout);
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return (app, address.TrimEnd('/'));
    }
}
