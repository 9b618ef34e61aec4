using System.Diagnostics;
using System.Text.Json.Nodes;
using Cpm.Api.Tests.Infrastructure;

namespace Cpm.Api.Tests.Fleet;

/// <summary>What a fleet's webhook receiver must have got: every event of the feed, signed, in order per entity.</summary>
public static class FleetDeliveries
{
    /// <summary>The deliveries so far once every event of <paramref name="feed"/> has come at least once (within a minute).</summary>
    public static async Task<List<WebhookAttempt>> AllOfAsync(WebhookReceiver receiver, IEnumerable<JsonObject> feed)
    {
        var waited = Stopwatch.StartNew();
        var expected = feed.Select(e => (string)e["event_id"]!).ToHashSet();
        while (!expected.IsSubsetOf(receiver.AcknowledgedEventIds))
        {
            Assert.True(waited.Elapsed < TimeSpan.FromMinutes(1), $"Of {expected.Count} events, {receiver.Acknowledged.Count} deliveries came within a minute.");
            await Task.Delay(100);
        }

        return receiver.Acknowledged;
    }

    /// <summary>
    /// Each delivery is signed with <paramref name="secret"/> and its body is the feed's JSON for the
    /// event; each entity's events come in order (the first time each comes); an event that comes
    /// again must satisfy <paramref name="repeatAllowed"/> (when it first came, when again). Returns
    /// the number of repeats.
    /// </summary>
    public static int AssertSignedAsInTheFeedAndInOrderPerEntity(
        IEnumerable<WebhookAttempt> deliveries, IEnumerable<JsonObject> feed, string secret, Func<TimeSpan, TimeSpan, bool> repeatAllowed)
    {
        var byId = feed.ToDictionary(e => (string)e["event_id"]!);
        var seen = new Dictionary<string, TimeSpan>();
        var lastVersion = new Dictionary<string, int>();
        var repeats = 0;
        foreach (var delivery in deliveries)
        {
            Assert.True(delivery.IsSignedWith(secret), $"Event {delivery.EventId} came with signature {delivery.Signature}.");
            var body = delivery.Event;
            var id = delivery.EventId;
            Assert.True(JsonNode.DeepEquals(byId[id], body), $"The delivered event differs from the feed's: {delivery.Body}");
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
}
