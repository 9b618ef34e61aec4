using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Cpm.Api.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Cpm.Api.Tests.Fleet;

/// <summary>
/// HAProxy sends a request again, to another node, when a connection to a dead node cannot be made.
/// Webhook leases last 3 s (renewed every second), nodes look for free leases every 0.5 s, and an
/// admin client may manage subscriptions.
/// </summary>
public sealed class NodeKillFleet : ServiceFleet
{
    public const string AdminKey = "fleet-admin-key-8c2e4a71";
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(3);
    public static readonly TimeSpan LeasePollInterval = TimeSpan.FromMilliseconds(500);

    protected override bool RetryConnectionFailures => true;

    protected override IEnumerable<string> NodeSettings() =>
    [
        "--Auth:Clients:0:Name=fleet-admin",
        $"--Auth:Clients:0:KeyHash={Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(AdminKey)))}",
        "--Auth:Clients:0:Scopes:0=admin",
        $"--Webhooks:LeaseDuration={LeaseDuration:c}",
        "--Webhooks:LeaseRenewal=00:00:01",
        $"--Webhooks:LeasePollInterval={LeasePollInterval:c}",
        "--Webhooks:PollInterval=00:00:00.100",
    ];
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
        await using var receiver = await WebhookRecorder.StartAsync(stopwatch);
        (await fleet.Client(NodeKillFleet.AdminKey).PostAsync("/Webhooks", $$"""{"url": "{{receiver.Url}}", "secret": "{{Secret}}"}"""))
            .AssertStatus(HttpStatusCode.Created);
        var holder = await HolderAsync(receiver.Url);

        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, Writers)
            .Select(writer => Task.Run(() => WriteUntilStoppedAsync(client, writer, writes, entities, unexpected, stopwatch, stop.Token)))
            .ToList();

        // Mid-way: after the first writes, with as many still to come.
        var killedAt = await WhenAcknowledgedAsync(writes, WritesEachSide, stopwatch);
        fleet.Kill(holder);
        await WhenAcknowledgedAsync(writes, 2 * WritesEachSide, stopwatch);
        await stop.CancelAsync();
        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(60));

        var acknowledged = writes.Where(write => write.Acknowledged).OrderBy(write => write.At).ToList();
        var cutOff = writes.Where(write => !write.Acknowledged).ToList();
        var warm = acknowledged[9].At;
        var rate = acknowledged.Count(write => write.At > warm && write.At <= killedAt) / (killedAt - warm).TotalSeconds;
        output.WriteLine($"{acknowledged.Count} writes acknowledged, the kill of node {holder} (the webhook holder) at {killedAt.TotalSeconds:0.0} s, {cutOff.Count} cut off by it, "
            + $"{entities.Count} entities; {rate:0} writes/s through {ServiceFleet.Size} nodes by {Writers} writers before the kill (from the 10th write)");
        Assert.Empty(unexpected);

        // Each writer has one request at a time: only those in flight on the killed node can be cut off.
        Assert.InRange(cutOff.Count, 0, Writers);

        var feed = await ReadWholeFeedAsync(client);
        await AssertEveryEntityReadsAsAcknowledgedAsync(client, entities, feed);
        AssertFeedIsGaplessInOrderAndHoldsExactlyTheWrites(feed, acknowledged, cutOff);
        await AssertTheReceiverGotEveryEventInOrderWithDuplicatesOnlyAroundTheTakeoverAsync(receiver, feed, killedAt);
    }

    /// <summary>The node that logs taking the subscription's lease.</summary>
    private async Task<int> HolderAsync(string url)
    {
        var taken = $"Webhook delivery to {url} is now held by node";
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(30))
        {
            for (var node = 0; node < ServiceFleet.Size; node++)
            {
                if (fleet.Node(node).Output.Contains(taken, StringComparison.Ordinal))
                {
                    return node;
                }
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"No node took the lease of {url} within 30 s.");
    }

    private async Task AssertTheReceiverGotEveryEventInOrderWithDuplicatesOnlyAroundTheTakeoverAsync(
        WebhookRecorder receiver, List<JsonObject> feed, TimeSpan killedAt)
    {
        // Every event at least once, within the lease's expiry plus a poll of the last write (and a busy machine's slack).
        var waited = Stopwatch.StartNew();
        var expected = feed.Select(e => (string)e["event_id"]!).ToHashSet();
        while (!expected.IsSubsetOf(receiver.Deliveries.Select(d => (string)JsonNode.Parse(d.Body)!["event_id"]!)))
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(60), $"{expected.Count - receiver.Deliveries.Count} events were not delivered within 60 s.");
            await Task.Delay(100);
        }

        var deliveries = receiver.Deliveries.ToList();
        var byId = feed.ToDictionary(e => (string)e["event_id"]!);
        var seen = new Dictionary<string, TimeSpan>();
        var lastVersion = new Dictionary<string, int>();
        var duplicates = 0;
        foreach (var delivery in deliveries)
        {
            Assert.Equal("sha256=" + Convert.ToHexString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), delivery.Body)).ToLowerInvariant(), delivery.Signature);
            var body = JsonNode.Parse(delivery.Body)!.AsObject();
            var id = (string)body["event_id"]!;
            Assert.True(JsonNode.DeepEquals(byId[id], body), $"The delivered event differs from the feed's: {Encoding.UTF8.GetString(delivery.Body)}");
            if (seen.TryGetValue(id, out var first))
            {
                // Sent by the killed holder, acknowledged, but not yet recorded as delivered: sent again by the next one.
                duplicates++;
                Assert.True(first <= killedAt && delivery.At > killedAt, $"Event {id} came again at {delivery.At.TotalSeconds:0.00} s, first at {first.TotalSeconds:0.00} s: not around the takeover at {killedAt.TotalSeconds:0.00} s.");
                continue;
            }

            seen[id] = delivery.At;
            var entity = (string)body["entity_id"]!;
            var version = (int)body["version"]!;
            Assert.True(version == lastVersion.GetValueOrDefault(entity) + 1, $"{entity} version {version} came after version {lastVersion.GetValueOrDefault(entity)}.");
            lastVersion[entity] = version;
        }

        // The writes went on after the kill, so events were waiting: the next holder took over within the lease's expiry plus a poll.
        var takeover = deliveries.First(d => d.At > killedAt).At - killedAt;
        output.WriteLine($"webhook: {deliveries.Count} deliveries of {feed.Count} events, {duplicates} duplicates; the first delivery after the kill "
            + $"{takeover.TotalSeconds:0.0} s after it (lease {NodeKillFleet.LeaseDuration.TotalSeconds:0} s + poll {NodeKillFleet.LeasePollInterval.TotalSeconds} s)");
        Assert.True(takeover < NodeKillFleet.LeaseDuration + NodeKillFleet.LeasePollInterval + TakeoverSlack, $"The takeover took {takeover.TotalSeconds:0.0} s.");
    }

    /// <summary>When <paramref name="count"/> writes are acknowledged (within a minute): the time since the start.</summary>
    private static async Task<TimeSpan> WhenAcknowledgedAsync(ConcurrentBag<Write> writes, int count, Stopwatch stopwatch)
    {
        var bound = Stopwatch.StartNew();
        while (writes.Count(write => write.Acknowledged) < count)
        {
            Assert.True(bound.Elapsed < TimeSpan.FromMinutes(1), $"Only {writes.Count(write => write.Acknowledged)} writes were acknowledged within a minute.");
            await Task.Delay(20);
        }

        return stopwatch.Elapsed;
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
            if (reply is null || reply.Status is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout && !IsOurs(reply))
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

    private static async Task<List<JsonObject>> ReadWholeFeedAsync(CpmClient client)
    {
        var events = new List<JsonObject>();
        var cursor = "0";
        while (true)
        {
            var page = await client.GetAsync($"/Events?after={cursor}&limit=1000");
            page.AssertStatus(HttpStatusCode.OK);
            var body = page.Json();
            var pageEvents = body["events"]!.AsArray().Select(item => item!.AsObject()).ToList();
            if (pageEvents.Count == 0)
            {
                // Gapless: the cursor is the last event's sequence number, and the numbers start at 1.
                Assert.Equal(events.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), cursor);
                return events;
            }

            events.AddRange(pageEvents);
            cursor = (string)body["next_cursor"]!;
        }
    }

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

    private static void AssertFeedIsGaplessInOrderAndHoldsExactlyTheWrites(List<JsonObject> feed, List<Write> acknowledged, List<Write> cutOff)
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

        foreach (var write in cutOff)
        {
            Assert.InRange(byRequest.GetValueOrDefault(write.RequestId)?.Count ?? 0, 0, 1);
        }

        // Nothing else: every event is one of the writes sent.
        var sent = acknowledged.Concat(cutOff).Select(write => write.RequestId).ToHashSet();
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
    }
}
