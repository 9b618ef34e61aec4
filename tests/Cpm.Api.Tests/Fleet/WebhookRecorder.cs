using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
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

    /// <summary>The deliveries so far once every event of <paramref name="feed"/> has come at least once (within a minute).</summary>
    public async Task<List<Delivery>> AllOfAsync(IEnumerable<JsonObject> feed)
    {
        var waited = Stopwatch.StartNew();
        var expected = feed.Select(e => (string)e["event_id"]!).ToHashSet();
        while (!expected.IsSubsetOf(Deliveries.Select(d => (string)JsonNode.Parse(d.Body)!["event_id"]!)))
        {
            Assert.True(waited.Elapsed < TimeSpan.FromMinutes(1), $"Of {expected.Count} events, {Deliveries.Count} deliveries came within a minute.");
            await Task.Delay(100);
        }

        return [.. Deliveries];
    }

    /// <summary>
    /// Each delivery is signed with <paramref name="secret"/> and its body is the feed's JSON for the
    /// event; each entity's events come in order (the first time each comes); an event that comes
    /// again must satisfy <paramref name="repeatAllowed"/> (when it first came, when again). Returns
    /// the number of repeats.
    /// </summary>
    public static int AssertSignedAsInTheFeedAndInOrderPerEntity(
        IEnumerable<Delivery> deliveries, IEnumerable<JsonObject> feed, string secret, Func<TimeSpan, TimeSpan, bool> repeatAllowed)
    {
        var byId = feed.ToDictionary(e => (string)e["event_id"]!);
        var seen = new Dictionary<string, TimeSpan>();
        var lastVersion = new Dictionary<string, int>();
        var repeats = 0;
        foreach (var delivery in deliveries)
        {
            Assert.Equal("sha256=" + Convert.ToHexString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), delivery.Body)).ToLowerInvariant(), delivery.Signature);
            var body = JsonNode.Parse(delivery.Body)!.AsObject();
            var id = (string)body["event_id"]!;
            Assert.True(JsonNode.DeepEquals(byId[id], body), $"The delivered event differs from the feed's: {Encoding.UTF8.GetString(delivery.Body)}");
            if (seen.TryGetValue(id, out var first))
            {
                repeats++;
                Assert.True(repeatAllowed(first, delivery.At), $"Event {id} came again at {delivery.At.TotalSeconds:0.00} s, first at {first.TotalSeconds:0.00} s.");
                continue;
            }

            seen[id] = delivery.At;
            var entity = (string)body["entity_id"]!;
            var version = (int)body["version"]!;
            Assert.True(version == lastVersion.GetValueOrDefault(entity) + 1, $"{entity} version {version} came after version {lastVersion.GetValueOrDefault(entity)}.");
            lastVersion[entity] = version;
        }

        return repeats;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    public sealed record Delivery(byte[] Body, string Signature, TimeSpan At);
}
