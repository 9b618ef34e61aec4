using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Cpm.Api.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Cpm.Api.Tests.Fleet;

/// <summary>HAProxy sends a request again, to another node, when a connection to a dead node cannot be made.</summary>
public sealed class NodeKillFleet : ServiceFleet
{
    protected override bool RetryConnectionFailures => true;
}

/// <summary>
/// Six writers create, rename and delete teams and products through HAProxy while one of the three
/// nodes is killed with SIGKILL. Each writer owns its entities, so each entity's acknowledged state
/// is known; every write carries its own <c>X-Request-Id</c>, which its event records, so the feed
/// can be matched write by write. A write whose answer never came (cut off by the kill) may or may
/// not have happened, but wholly or not at all. A webhook subscription made through the API before
/// the writes is delivered by one node under its lease: that node is the one killed.
/// </summary>
[Collection(FleetsTakeTurns.Name)]
public sealed class NodeKillTests(NodeKillFleet fleet, ITestOutputHelper output) : IClassFixture<NodeKillFleet>
{
    private const int Writers = 6;
    private const int WritesEachSide = 60;
    private const string Secret = "fleet-webhook-secret-5b9d3f17";

    /// <summary>On top of the lease's expiry and a poll: a renewal's round trip and a busy machine.</summary>
    private static readonly TimeSpan TakeoverSlack = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task AfterTheWebhookHoldersSigkillMidWayNoWriteIsLostTheFeedIsGaplessAndTheReceiverGetsEveryEventInOrder()
    {
        var client = fleet.Client();
        var writes = new ConcurrentBag<Write>();
        var entities = new ConcurrentBag<Entity>();
        var unexpected = new ConcurrentQueue<string>();
        var stopwatch = Stopwatch.StartNew();
        await using var receiver = await WebhookReceiver.StartAsync(stopwatch);
        var holder = await fleet.SubscribeAsync(receiver.Url, Secret);

        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, Writers)
            .Select(writer => Task.Run(() => WriteUntilStoppedAsync(client, writer, writes, entities, unexpected, stopwatch, stop.Token)))
            .ToList();

        // Mid-way: after the first writes, with as many still to come.
        await WhenAcknowledgedAsync(writes, WritesEachSide);
        await fleet.KillAsync(holder);

        // Once the process is gone: nothing it sent can arrive later.
        var killedAt = stopwatch.Elapsed;
        await WhenAcknowledgedAsync(writes, 2 * WritesEachSide);
        await stop.CancelAsync();
        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(60));

        var acknowledged = writes.Where(write => write.Acknowledged).OrderBy(write => write.At).ToList();
        var unknown = writes.Where(write => !write.Acknowledged).ToList();
        var cutOff = unknown.Where(write => !write.StoreBusy).ToList();
        var warm = acknowledged[9].At;
        var rate = acknowledged.Count(write => write.At > warm && write.At <= killedAt) / (killedAt - warm).TotalSeconds;
        output.WriteLine($"{acknowledged.Count} writes acknowledged, the kill of node {holder} (the webhook holder) at {killedAt.TotalSeconds:0.0} s, {cutOff.Count} cut off by it, {unknown.Count - cutOff.Count} answered 503 by a busy store, "
            + $"{entities.Count} entities; {rate:0} writes/s through {ServiceFleet.Size} nodes by {Writers} writers before the kill (from the 10th write)");
        Assert.True(unexpected.IsEmpty, string.Join("\n", unexpected));

        // Each writer has one request at a time: only those in flight on the killed node can be cut off.
        Assert.InRange(cutOff.Count, 0, Writers);

        var feed = await fleet.ReadWholeFeedAsync();
        await AssertEveryEntityReadsAsAcknowledgedAsync(client, entities, feed);
        AssertFeedIsGaplessInOrderAndHoldsExactlyTheWrites(feed, acknowledged, unknown);
        await AssertTheReceiverGotEveryEventInOrderWithDuplicatesOnlyAroundTheTakeoverAsync(receiver, feed, killedAt);
    }

    private async Task AssertTheReceiverGotEveryEventInOrderWithDuplicatesOnlyAroundTheTakeoverAsync(
        WebhookReceiver receiver, List<JsonObject> feed, TimeSpan killedAt)
    {
        // A duplicate: sent by the killed holder, acknowledged, but not yet saved as delivered, so sent again by the next one.
        var deliveries = await FleetDeliveries.AllOfAsync(receiver, feed);
        var duplicates = FleetDeliveries.AssertSignedAsInTheFeedAndInOrderPerEntity(deliveries, feed, Secret, (first, again) => first <= killedAt && again > killedAt);

        // The writes went on after the kill, so events were waiting: the next holder took over within the lease's expiry plus a poll.
        var takeover = deliveries.First(d => d.At > killedAt).At - killedAt;
        output.WriteLine($"webhook: {deliveries.Count} deliveries of {feed.Count} events, {duplicates} duplicates; the first delivery after the kill "
            + $"{takeover.TotalSeconds:0.0} s after it (lease {ServiceFleet.LeaseDuration.TotalSeconds:0} s + poll {ServiceFleet.LeasePollInterval.TotalSeconds} s)");
        Assert.True(takeover < ServiceFleet.LeaseDuration + ServiceFleet.LeasePollInterval + TakeoverSlack, $"The takeover took {takeover.TotalSeconds:0.0} s.");
    }

    /// <summary>Waits until <paramref name="count"/> writes are acknowledged (within a minute).</summary>
    private static async Task WhenAcknowledgedAsync(ConcurrentBag<Write> writes, int count)
    {
        var bound = Stopwatch.StartNew();
        while (writes.Count(write => write.Acknowledged) < count)
        {
            Assert.True(bound.Elapsed < TimeSpan.FromMinutes(1), $"Only {writes.Count(write => write.Acknowledged)} writes were acknowledged within a minute.");
            await Task.Delay(20);
        }
    }

    private static async Task WriteUntilStoppedAsync(
        CpmClient client, int writer, ConcurrentBag<Write> writes, ConcurrentBag<Entity> entities, ConcurrentQueue<string> unexpected, Stopwatch stopwatch, CancellationToken stop)
    {
        var random = new Random(writer);
        var mine = new List<Entity>();
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var teams = mine.Where(entity => entity.Kind == Kind.Team && entity.Live && !entity.Uncertain).ToList();
            var products = mine.Where(entity => entity.Kind == Kind.Product && entity.Live && !entity.Uncertain).ToList();
            var choice = random.Next(100);
            var name = $"Fleet {writer}-{n}";
            var requestId = Guid.NewGuid().ToString();
            Entity? target;
            Write write;
            Reply? reply = null;
            if (teams.Count < 2 || choice < 20)
            {
                target = null;
                write = new Write(requestId, "ProductTeamCreated", null);
                reply = await SendAsync(() => client.PostAsync("/ProductTeam", $$"""{"ods_code": "F{{writer}}X{{n % 3}}", "name": "{{name}}"}""", ("X-Request-Id", requestId)));
            }
            else if (choice < 50)
            {
                var team = teams[random.Next(teams.Count)];
                target = null;
                write = new Write(requestId, "ProductCreated", null) { Team = team.Id };
                reply = await SendAsync(() => client.PostAsync($"/ProductTeam/{team.Id}/Product", $$"""{"name": "{{name}}"}""", ("X-Request-Id", requestId)));
            }
            else if (choice < 75 || (products.Count == 0 && choice < 90))
            {
                target = products.Count > 0 && choice % 2 == 0 ? products[random.Next(products.Count)] : teams[random.Next(teams.Count)];
                write = new Write(requestId, target.Kind == Kind.Team ? "ProductTeamUpdated" : "ProductUpdated", target) { Name = name };
                reply = await SendAsync(() => client.SendAsync(HttpMethod.Patch, target.Path, $$"""{"name": "{{name}}"}""",
                    ("X-Request-Id", requestId), ("If-Match", $"W/\"{target.Version}\"")));
            }
            else
            {
                var teamsWithoutProducts = teams.Where(team => !mine.Any(product => product.Team == team.Id && (product.Live || product.Uncertain))).ToList();
                target = products.Count > 0 && (choice % 2 == 0 || teamsWithoutProducts.Count == 0)
                    ? products[random.Next(products.Count)]
                    : teamsWithoutProducts.Count > 0 ? teamsWithoutProducts[random.Next(teamsWithoutProducts.Count)] : null;
                if (target is null)
                {
                    continue;
                }

                write = new Write(requestId, target.Kind == Kind.Team ? "ProductTeamDeleted" : "ProductDeleted", target);
                reply = await SendAsync(() => client.DeleteAsync(target.Path, ("X-Request-Id", requestId)));
            }

            write.At = stopwatch.Elapsed;
            writes.Add(write);
            var expected = write.Type.EndsWith("Created", StringComparison.Ordinal) ? HttpStatusCode.Created : HttpStatusCode.OK;
            // Our own 503: the store stayed busy past the write's deadline (moto on a loaded machine) or
            // timed out, so this outcome is unknown too, though the kill did not cause it.
            write.StoreBusy = reply?.Status == HttpStatusCode.ServiceUnavailable && IsOurs(reply);
            if (reply is null || write.StoreBusy || reply.Status is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout && !IsOurs(reply))
            {
                // No answer from a node: the outcome is unknown, so the entity is left alone from now on
                // (and the team of a product that may exist is never deleted).
                if (target is not null)
                {
                    target.Uncertain = true;
                    target.Attempted = write;
                }
                else if (write.Team is not null)
                {
                    mine.Single(team => team.Id == write.Team).Uncertain = true;
                }

                continue;
            }

            if (reply.Status != expected)
            {
                unexpected.Enqueue($"{write.Type} {requestId}: {(int)reply.Status} {reply.Body}");
                continue;
            }

            write.Acknowledged = true;
            if (target is null)
            {
                var body = reply.Json();
                target = new Entity(write.Type == "ProductTeamCreated" ? Kind.Team : Kind.Product, (string)body["id"]!, write.Team) { Name = (string)body["name"]! };
                mine.Add(target);
                entities.Add(target);
            }

            write.Entity = target;
            target.Version++;
            target.Name = write.Name ?? target.Name;
            target.Live = !write.Type.EndsWith("Deleted", StringComparison.Ordinal);
            target.Acknowledged.Add(write);
        }
    }

    private static async Task<Reply?> SendAsync(Func<Task<Reply>> send)
    {
        try
        {
            return await send();
        }
        catch (Exception failure) when (failure is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    // Our own 503s carry the contract's error body; HAProxy's are HTML.
    private static bool IsOurs(Reply reply) => reply.Body.StartsWith("{\"errors\"", StringComparison.Ordinal);

    private static async Task AssertEveryEntityReadsAsAcknowledgedAsync(CpmClient client, IEnumerable<Entity> entities, List<JsonObject> feed)
    {
        var lost = new List<string>();
        foreach (var entity in entities)
        {
            var reply = await client.GetAsync($"{(entity.Kind == Kind.Team ? "/ProductTeam" : "/Product")}/{entity.Id}?include_deleted=true");
            reply.AssertStatus(HttpStatusCode.OK);
            var body = reply.Json();
            var read = (Name: (string)body["name"]!, Live: (string)body["status"]! == "active", ETag: reply.Header("ETag"));

            // A write cut off by the kill happened wholly (with its event) or not at all.
            var attemptHappened = entity.Attempted is { } attempted && feed.Any(e => (string?)e["request_id"] == attempted.RequestId);
            var expected = attemptHappened
                ? (Name: entity.Attempted!.Name ?? entity.Name, Live: !entity.Attempted.Type.EndsWith("Deleted", StringComparison.Ordinal), ETag: $"W/\"{entity.Version + 1}\"")
                : (entity.Name, entity.Live, ETag: $"W/\"{entity.Version}\"");
            if (read != expected)
            {
                lost.Add($"{entity.Id}: read {read}, acknowledged {expected}");
            }
        }

        Assert.Empty(lost);
    }

    private static void AssertFeedIsGaplessInOrderAndHoldsExactlyTheWrites(List<JsonObject> feed, List<Write> acknowledged, List<Write> unknown)
    {
        Assert.Equal(feed.Count, feed.Select(e => (string)e["event_id"]!).Distinct().Count());

        // Each acknowledged write is in the feed exactly once, as its entity's next version; a cut-off one at most once.
        var byRequest = feed.GroupBy(e => (string?)e["request_id"] ?? "").ToDictionary(group => group.Key, group => group.ToList());
        foreach (var write in acknowledged)
        {
            var written = Assert.Single(byRequest.GetValueOrDefault(write.RequestId) ?? []);
            Assert.Equal(write.Type, (string)written["type"]!);
            Assert.Equal(write.Entity!.Id, (string)written["entity_id"]!);
            Assert.Equal(write.Entity.Acknowledged.IndexOf(write) + 1, (int)written["version"]!);
        }

        foreach (var write in unknown)
        {
            Assert.InRange(byRequest.GetValueOrDefault(write.RequestId)?.Count ?? 0, 0, 1);
        }

        // Nothing else: every event is one of the writes sent.
        var sent = acknowledged.Concat(unknown).Select(write => write.RequestId).ToHashSet();
        Assert.All(feed, e => Assert.Contains((string?)e["request_id"] ?? "(none)", sent));

        // In order: each entity's versions run 1, 2, 3 ... in feed order.
        foreach (var entity in feed.GroupBy(e => (string)e["entity_id"]!))
        {
            Assert.Equal(Enumerable.Range(1, entity.Count()), entity.Select(e => (int)e["version"]!));
        }
    }

    private enum Kind
    {
        Team,
        Product,
    }

    private sealed class Entity(Kind kind, string id, string? team)
    {
        public Kind Kind => kind;

        public string Id => id;

        public string? Team => team;

        public string Path => kind == Kind.Team ? $"/ProductTeam/{id}" : $"/ProductTeam/{team}/Product/{id}";

        public string Name { get; set; } = "";

        public bool Live { get; set; } = true;

        public int Version { get; set; }

        /// <summary>A write to it (or a product create under it) was cut off by the kill: it is written no more.</summary>
        public bool Uncertain { get; set; }

        /// <summary>The write cut off by the kill: it happened wholly or not at all.</summary>
        public Write? Attempted { get; set; }

        public List<Write> Acknowledged { get; } = [];
    }

    private sealed class Write(string requestId, string type, Entity? entity)
    {
        public string RequestId => requestId;

        /// <summary>The type of the event it makes.</summary>
        public string Type => type;

        public Entity? Entity { get; set; } = entity;

        public string? Team { get; init; }

        public string? Name { get; init; }

        public TimeSpan At { get; set; }

        public bool Acknowledged { get; set; }

        public bool StoreBusy { get; set; }
    }
}
