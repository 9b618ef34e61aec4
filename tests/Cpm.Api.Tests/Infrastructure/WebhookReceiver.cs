using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Cpm.Api.Tests.Infrastructure;

/// <summary>
/// A webhook receiver on loopback: records every attempt, fails on demand, can take its time over
/// each answer or hold its answers until released, and counts how many deliveries it had in hand at once.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Stopwatch _clock;
    private int _inFlight;
    private int _maxInFlight;
    private volatile TaskCompletionSource? _held;

    private WebhookReceiver(WebApplication app, Stopwatch clock)
    {
        _app = app;
        _clock = clock;
    }

    public string Url { get; private set; } = "";

    private volatile bool _failing;

    public bool Failing
    {
        get => _failing;
        set => _failing = value;
    }

    /// <summary>How long each answer takes.</summary>
    public TimeSpan Delay { get; set; }

    public ConcurrentQueue<WebhookAttempt> Attempts { get; } = new();

    public List<WebhookAttempt> Acknowledged => [.. Attempts.Where(a => a.Acknowledged)];

    /// <summary>The event ids acknowledged, in the order they arrived.</summary>
    public List<string> AcknowledgedEventIds => [.. Acknowledged.Select(a => a.EventId)];

    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    /// <summary>Keeps every answer waiting, from now until <see cref="Release"/>.</summary>
    public void Hold() => _held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Lets the answers held since <see cref="Hold"/> go, and the later ones through.</summary>
    public void Release() => _held?.TrySetResult();

    /// <summary>Starts the receiver; each attempt's arrival is read off <paramref name="clock"/> (by default, one started now).</summary>
    public static async Task<WebhookReceiver> StartAsync(Stopwatch? clock = null)
    {
        var app = LoopbackServer.Create();
        var receiver = new WebhookReceiver(app, clock ?? Stopwatch.StartNew());
        app.MapPost("/hook", async (HttpRequest request) =>
        {
            var inFlight = Interlocked.Increment(ref receiver._inFlight);
            try
            {
                int seen;
                while (inFlight > (seen = Volatile.Read(ref receiver._maxInFlight)) && Interlocked.CompareExchange(ref receiver._maxInFlight, inFlight, seen) != seen)
                {
                }

                var body = await new StreamReader(request.Body).ReadToEndAsync();
                if (receiver._held is { } held)
                {
                    // A sender that gives up meanwhile has its attempt end here, unrecorded.
                    await held.Task.WaitAsync(request.HttpContext.RequestAborted);
                }

                if (receiver.Delay > TimeSpan.Zero)
                {
                    await Task.Delay(receiver.Delay);
                }

                var failing = receiver.Failing;
                receiver.Attempts.Enqueue(new WebhookAttempt(body, request.Headers["X-Cpm-Signature"].ToString(), request.ContentType ?? "", !failing, receiver._clock.Elapsed));
                return failing ? Results.StatusCode(500) : Results.Ok();
            }
            finally
            {
                Interlocked.Decrement(ref receiver._inFlight);
            }
        });
        await app.StartAsync();
        receiver.Url = LoopbackServer.AddressOf(app) + "/hook";
        return receiver;
    }

    public ValueTask DisposeAsync()
    {
        Release();
        return _app.DisposeAsync();
    }
}

public sealed record WebhookAttempt(string Body, string Signature, string ContentType, bool Acknowledged, TimeSpan At)
{
    public string EventId => (string)JsonNode.Parse(Body)!["event_id"]!;

    public JsonObject Event => JsonNode.Parse(Body)!.AsObject();

    public bool IsSignedWith(string secret) =>
        Signature == "sha256=" + Convert.ToHexString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(Body))).ToLowerInvariant();
}
