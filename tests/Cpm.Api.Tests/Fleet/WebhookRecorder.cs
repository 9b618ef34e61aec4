using System.Collections.Concurrent;
using System.Diagnostics;
using Cpm.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Cpm.Api.Tests.Fleet;

/// <summary>A webhook receiver on loopback that answers 200 at once and keeps every delivery, with when it came.</summary>
public sealed class WebhookRecorder : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Stopwatch _clock;

    private WebhookRecorder(WebApplication app, Stopwatch clock)
    {
        _app = app;
        _clock = clock;
    }

    public string Url { get; private set; } = "";

    /// <summary>Every delivery in the order it arrived.</summary>
    public ConcurrentQueue<Delivery> Deliveries { get; } = new();

    /// <summary>Starts the receiver; arrival times are read off <paramref name="clock"/>.</summary>
    public static async Task<WebhookRecorder> StartAsync(Stopwatch clock)
    {
        var app = LoopbackServer.Create();
        var recorder = new WebhookRecorder(app, clock);
        app.MapPost("/hook", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            recorder.Deliveries.Enqueue(new Delivery(body.ToArray(), request.Headers["X-Cpm-Signature"].ToString(), recorder._clock.Elapsed));
            return Results.Ok();
        });
        await app.StartAsync();
        recorder.Url = LoopbackServer.AddressOf(app) + "/hook";
        return recorder;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    public sealed record Delivery(byte[] Body, string Signature, TimeSpan At);
}
