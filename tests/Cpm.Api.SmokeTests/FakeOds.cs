using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cpm.Api.SmokeTests;

/// <summary>An ODS ORD API on a free loopback port that knows every organisation code.</summary>
public sealed class FakeOds : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeOds(WebApplication app) => _app = app;

    /// <summary>The ORD organisations endpoint, as <c>Ods:BaseUrl</c> takes it.</summary>
    public string BaseUrl { get; private set; } = "";

    public static async Task<FakeOds> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.MapGet("/ORD/2-0-0/organisations/{code}", (string code) =>
            Results.Json(new { Organisation = new { Name = "SMOKE TEST ORGANISATION", OrgId = new { extension = code } } }));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new FakeOds(app) { BaseUrl = $"{address.TrimEnd('/')}/ORD/2-0-0/organisations" };
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
