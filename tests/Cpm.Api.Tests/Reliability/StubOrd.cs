using Cpm.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Cpm.Api.Tests.Reliability;

/// <summary>
/// An ORD server on a free loopback port that answers 200 to any GET, as the real API does for
/// its organisations collection too, after a chosen delay; it records the paths asked for.
/// </summary>
public sealed class StubOrd : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _paths = new();

    private StubOrd(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    public IReadOnlyCollection<string> Paths => _paths;

    public static async Task<StubOrd> StartAsync(TimeSpan delay)
    {
        var app = LoopbackServer.Create();
        var ord = new StubOrd(app);
        app.MapGet("/{**path}", async (HttpContext context) =>
        {
            ord._paths.Enqueue(context.Request.Path + context.Request.QueryString);
            await Task.Delay(delay, context.RequestAborted);
            await context.Response.WriteAsJsonAsync(new { Organisation = new { Name = "STUB ORGANISATION" } });
        });
        await app.StartAsync();
        ord.BaseUrl = LoopbackServer.AddressOf(app) + "/ORD/2-0-0/organisations";
        return ord;
    }

    /// <summary>A loopback address where nothing listens, so every connection is refused.</summary>
    public static string ClosedBaseUrl()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"http://127.0.0.1:{port}/ORD/2-0-0/organisations";
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
