using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Cpm.Api.Storage;
using Cpm.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cpm.Api.Tests.Api;

/// <summary>
/// Webhooks from the durable event log, delivered by whichever node holds a subscription's lease:
/// every event, signed, in order per entity and different entities at once; once per event with
/// two nodes, taken over when the holder stops renewing, stopped by DELETE, resumed after a
/// restart without resending, with progress saved per batch, and secrets never logged.
/// </summary>
public abstract class WebhookTests
{
    private const string Secret = "webhook-secret";

    // Short leases and polls, so takeovers and deletes show within a test.
    private static readonly Dictionary<string, string?> Fast = new()
    {
        ["Webhooks:FirstRetryDelay"] = "00:00:00.050",
        ["Webhooks:MaxRetryDelay"] = "00:00:00.200",
        ["Webhooks:PollInterval"] = "00:00:00.050",
        ["Webhooks:LeasePollInterval"] = "00:00:00.100",
        ["Webhooks:LeaseDuration"] = "00:00:02",
        ["Webhooks:LeaseRenewal"] = "00:00:00.300",
    };

    protected abstract CpmService CreateService();

    [Fact]
    public async Task AFailingReceiverGetsEveryEventInOrderAfterARestartWithValidSignatures()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var service = CreateService();
        service.ExtraSettings["Webhooks:Subscriptions:0:Url"] = receiver.Url;
        service.ExtraSettings["Webhooks:Subscriptions:0:Secret"] = Secret;
        service.ExtraSettings["Webhooks:FirstRetryDelay"] = "00:00:00.050";
        service.ExtraSettings["Webhooks:MaxRetryDelay"] = "00:00:00.200";
        service.ExtraSettings["Webhooks:LeasePollInterval"] = "00:00:00.100";
        await using (service)
        {
            await service.InitializeAsync();
            await WaitUntilAsync(async () => await service.Services.GetRequiredService<ICpmStore>().GetDeliveryCursorAsync($"webhook:{receiver.Url}", CancellationToken.None) is not null);

            var client = service.Client();
            await client.CreateTeamAsync();
            await WaitUntilAsync(() => Task.FromResult(receiver.Acknowledged.Count == 1));

            receiver.Failing = true;
            var team = (string)(await client.CreateTeamAsync())["id"]!;
            var product = (string)(await client.CreateProductAsync(team))["id"]!;
            (await client.SendAsync(HttpMethod.Patch, $"/ProductTeam/{team}/Product/{product}", """{"name": "Renamed"}""", ("If-Match", "*"))).AssertStatus(HttpStatusCode.OK);
            await WaitUntilAsync(() => Task.FromResult(receiver.Attempts.Count >= 4));

            await service.RestartAsync();
            receiver.Failing = false;
            await WaitUntilAsync(() => Task.FromResult(receiver.Acknowledged.Count >= 4));
            client = service.Client();
            (await client.DeleteAsync($"/ProductTeam/{team}/Product/{product}")).AssertStatus(HttpStatusCode.OK);
            (await client.DeleteAsync($"/ProductTeam/{team}")).AssertStatus(HttpStatusCode.OK);
            await WaitUntilAsync(() => Task.FromResult(receiver.Acknowledged.Count >= 6));

            // Once the stored cursor is at the last event, every send up to it (a repeat after the
            // restart included) has been answered, so the receiver's list is final.
            var store = service.Services.GetRequiredService<ICpmStore>();
            var lastEvent = (await store.ReadEventsAsync(0, 1000, CancellationToken.None))[^1].Sequence;
            await WaitUntilAsync(async () => await store.GetDeliveryCursorAsync($"webhook:{receiver.Url}", CancellationToken.None) == lastEvent);

            var feed = await FeedAsync(client);
            AssertEachOnceInOrderPerEntity(feed, receiver.Acknowledged);
            Assert.All(receiver.Attempts, attempt => Assert.True(attempt.IsSignedWith(Secret), attempt.Signature));
            Assert.All(receiver.Attempts, attempt => Assert.Equal("application/json", attempt.ContentType));
            Assert.Equal(feed.Select(e => e.ToJsonString()).Order(), receiver.Acknowledged.Select(a => a.Event.ToJsonString()).Order());
            Assert.Contains(receiver.Attempts, attempt => !attempt.Acknowledged);
        }
    }

    [Fact]
    public async Task AnApiSubscriptionGetsEveryLaterEventSignedInOrderPerEntityAndEntitiesAtOnce()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Delay = TimeSpan.FromMilliseconds(100);
        await using var service = await StartAsync(CreateService());
        var client = service.Client();
        await client.CreateTeamAsync();
        var before = (await FeedAsync(client)).Count;

        var (id, secret) = await SubscribeAsync(service, receiver);

        // Answers wait until every event is written, so that however slowly the store writes, the
        // deliveries after the first find events of twelve entities waiting.
        receiver.Hold();
        for (var index = 0; index < 6; index++)
        {
            var team = (string)(await client.CreateTeamAsync())["id"]!;
            var product = (string)(await client.CreateProductAsync(team))["id"]!;
            (await client.SendAsync(HttpMethod.Patch, $"/ProductTeam/{team}/Product/{product}", """{"name": "Renamed"}""", ("If-Match", "*"))).AssertStatus(HttpStatusCode.OK);
        }

        receiver.Release();

        var feed = (await FeedAsync(client)).Skip(before).ToList();
        Assert.Equal(18, feed.Count);
        var state = await WaitUntilSettledAsync(service, id);
        AssertEachOnceInOrderPerEntity(feed, receiver.Acknowledged);
        Assert.All(receiver.Attempts, attempt => Assert.True(attempt.IsSignedWith(secret), attempt.Signature));
        Assert.True(receiver.MaxInFlight > 1, $"at most {receiver.MaxInFlight} delivery at a time");
        Assert.Equal(0, (long)state["pending"]!);
        Assert.Equal(200, (int)state["last_attempt"]!["status"]!);
        Assert.Null(state["last_attempt"]!["error"]);
    }

    [Fact]
    public async Task TheDeliveryStateShowsAFailingReceiverAndWhatIsPending()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var service = await StartAsync(CreateService());
        var admin = service.Client(CpmService.AdminKey);
        var (id, _) = await SubscribeAsync(service, receiver);
        receiver.Failing = true;
        await service.Client().CreateTeamAsync();
        await service.Client().CreateTeamAsync();

        JsonObject state = null!;
        await WaitUntilAsync(async () =>
        {
            state = (await admin.GetAsync($"/Webhooks/{id}")).Json();
            return state["last_attempt"] is JsonObject { } attempt && (int?)attempt["status"] == 500;
        });
        Assert.Equal(2, (long)state["pending"]!);
        Assert.Equal("HTTP 500", (string)state["last_attempt"]!["error"]!);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$", (string)state["last_attempt"]!["at"]!);

        receiver.Failing = false;
        state = await WaitUntilSettledAsync(service, id);
        var end = await service.Services.GetRequiredService<ICpmStore>().ReadFeedEndAsync(CancellationToken.None);
        Assert.Equal(end, (long)state["delivered_through"]!);
        Assert.Equal(200, (int)state["last_attempt"]!["status"]!);
        Assert.Null(state["last_attempt"]!["error"]);
    }

    [Fact]
    public async Task TwoNodesOnOneStoreDeliverEachEventOnce()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var first = await StartAsync(CreateService());
        await using var second = await StartAsync(first.OnSameStore());
        var (id, secret) = await SubscribeAsync(first, receiver);

        var writes = new List<Task>();
        foreach (var node in new[] { first, second })
        {
            var client = node.Client();
            writes.Add(Task.Run(async () =>
            {
                for (var index = 0; index < 10; index++)
                {
                    await client.CreateTeamAsync();
                }
            }));
        }

        await Task.WhenAll(writes);
        var feed = (await FeedAsync(first.Client())).TakeLast(20).ToList();
        await WaitUntilSettledAsync(first, id);
        await Task.Delay(500);

        AssertEachOnceInOrderPerEntity(feed, receiver.Acknowledged);
        Assert.All(receiver.Attempts, attempt => Assert.True(attempt.IsSignedWith(secret)));
    }

    [Fact]
    public async Task AHolderThatStopsRenewingIsTakenOverWithinTheLeaseAndOnePoll()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        StoreProxy holderStore = null!;
        var holder = CreateService();
        holder.ExtraServices = services => StoreProxy.Wrap(services, proxy => holderStore = proxy);
        await using var started = await StartAsync(holder);
        var client = holder.Client();
        var (id, _) = await SubscribeAsync(holder, receiver);
        await client.CreateTeamAsync();
        await WaitUntilAsync(() => Task.FromResult(receiver.Acknowledged.Count == 1));

        await using var other = await StartAsync(holder.OnSameStore());
        var store = other.Services.GetRequiredService<ICpmStore>();
        var subscriber = WebhookRecord.SubscriberFor(id);
        await WaitUntilAsync(async () => (await store.GetDeliveryStateAsync(subscriber, CancellationToken.None)).Pending == 0);
        var holderName = (await store.GetDeliveryStateAsync(subscriber, CancellationToken.None)).Holder;
        var savedByHolder = (await store.GetDeliveryCursorAsync(subscriber, CancellationToken.None))!.Value;

        // The holder can no longer renew: it stops sending when its lease runs out, and the other node takes over.
        holderStore.LeasesCutOff = true;
        var cut = Stopwatch.StartNew();
        var otherClient = other.Client();
        for (var index = 0; index < 5; index++)
        {
            await otherClient.CreateTeamAsync();
        }

        var feed = (await FeedAsync(otherClient)).TakeLast(6).ToList();
        await WaitUntilAsync(async () => (await store.GetDeliveryStateAsync(subscriber, CancellationToken.None)) is { Pending: 0 } state && state.Holder != holderName);
        var takeover = cut.Elapsed;

        // Lease 2 s plus one 0.1 s poll; the rest is slack for a busy machine.
        Assert.True(takeover < TimeSpan.FromSeconds(2 + 0.1 + 3), $"took over after {takeover}");
        await WaitUntilAsync(() => Task.FromResult(feed.All(e => receiver.AcknowledgedEventIds.Contains((string)e["event_id"]!))));
        var sequences = (await store.ReadEventsAsync(0, 1000, CancellationToken.None)).ToDictionary(e => e.Event.EventId, e => e.Sequence);
        var duplicates = receiver.AcknowledgedEventIds.GroupBy(e => e).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.All(duplicates, duplicate => Assert.True(sequences[duplicate] > savedByHolder, $"event {sequences[duplicate]} was sent twice though saved before the takeover"));
        AssertInOrderPerEntity(feed, receiver.Acknowledged);
    }

    [Fact]
    public async Task ALeaseHasOneHolderAtATimeAndAHolderThatLostItCannotMoveTheCursor()
    {
        var service = CreateService();
        service.ExtraSettings["Webhooks:Deliver"] = "false";
        await using var started = await StartAsync(service);
        var store = service.Services.GetRequiredService<ICpmStore>();
        var subscriber = $"test:{Guid.NewGuid()}";
        var now = DateTimeOffset.UtcNow;

        var first = await store.TryTakeLeaseAsync(subscriber, "node-a", now, now.AddSeconds(10), mustHaveCursor: false, CancellationToken.None);
        var contender = await store.TryTakeLeaseAsync(subscriber, "node-b", now.AddSeconds(5), now.AddSeconds(15), mustHaveCursor: false, CancellationToken.None);
        Assert.NotNull(first);
        Assert.Null(contender);
        Assert.True(await store.SaveDeliveryProgressAsync(first, new DeliveryProgress(7, [9], null), now.AddSeconds(20), CancellationToken.None));

        // Renewed until now + 20 s: still held at + 15 s; taken at + 21 s, with the progress saved under the first lease.
        Assert.Null(await store.TryTakeLeaseAsync(subscriber, "node-b", now.AddSeconds(15), now.AddSeconds(25), mustHaveCursor: false, CancellationToken.None));
        var second = await store.TryTakeLeaseAsync(subscriber, "node-b", now.AddSeconds(21), now.AddSeconds(31), mustHaveCursor: false, CancellationToken.None);
        Assert.NotNull(second);
        Assert.Equal(7, second.DeliveredThrough);
        Assert.Equal([9], second.AcknowledgedAhead);

        var attempt = new DeliveryAttempt(now, 500, "HTTP 500");
        Assert.False(await store.SaveDeliveryProgressAsync(first, new DeliveryProgress(100, [], attempt), now.AddSeconds(60), CancellationToken.None));
        Assert.False(await store.SaveDeliveryProgressAsync(first, new DeliveryProgress(3, [], attempt), now.AddSeconds(60), CancellationToken.None));
        await store.ReleaseLeaseAsync(first, CancellationToken.None);
        var state = await store.GetDeliveryStateAsync(subscriber, CancellationToken.None);
        Assert.Equal(7, state.DeliveredThrough);
        Assert.Equal("node-b", state.Holder);
        Assert.Null(state.LastAttempt);
        Assert.Null(await store.TryTakeLeaseAsync(subscriber, "node-c", now.AddSeconds(22), now.AddSeconds(32), mustHaveCursor: false, CancellationToken.None));

        await store.ReleaseLeaseAsync(second, CancellationToken.None);
        Assert.NotNull(await store.TryTakeLeaseAsync(subscriber, "node-c", now.AddSeconds(22), now.AddSeconds(32), mustHaveCursor: false, CancellationToken.None));
        Assert.Null(await store.TryTakeLeaseAsync($"test:{Guid.NewGuid()}", "node-c", now, now.AddSeconds(10), mustHaveCursor: true, CancellationToken.None));
    }

    [Fact]
    public async Task DeletingASubscriptionStopsItsDeliveries()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var service = await StartAsync(CreateService());
        var client = service.Client();
        var (id, _) = await SubscribeAsync(service, receiver);
        await client.CreateTeamAsync();
        await WaitUntilAsync(() => Task.FromResult(receiver.Acknowledged.Count == 1));

        (await service.Client(CpmService.AdminKey).DeleteAsync($"/Webhooks/{id}")).AssertStatus(HttpStatusCode.OK);
        await Task.Delay(300);
        for (var index = 0; index < 3; index++)
        {
            await client.CreateTeamAsync();
        }

        await Task.Delay(1500);
        Assert.Single(receiver.Attempts);
    }

    [Fact]
    public async Task ARestartResumesWithoutSendingAcknowledgedEventsAgain()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var service = await StartAsync(CreateService());
        var (id, _) = await SubscribeAsync(service, receiver);
        for (var index = 0; index < 5; index++)
        {
            await service.Client().CreateTeamAsync();
        }

        await WaitUntilSettledAsync(service, id);

        await service.RestartAsync();
        for (var index = 0; index < 3; index++)
        {
            await service.Client().CreateTeamAsync();
        }

        var feed = (await FeedAsync(service.Client())).TakeLast(8).ToList();
        await WaitUntilSettledAsync(service, id);
        await Task.Delay(500);
        AssertEachOnceInOrderPerEntity(feed, receiver.Acknowledged);
    }

    [Fact]
    public async Task ABacklogIsDeliveredWithItsProgressSavedPerBatchNotPerEvent()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var writer = CreateService();
        writer.ExtraSettings["Webhooks:Deliver"] = "false";
        await using var writing = await StartAsync(writer);
        var (id, _) = await SubscribeAsync(writer, receiver);
        var client = writer.Client();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            for (var index = 0; index < 30; index++)
            {
                await client.CreateTeamAsync();
            }
        })));
        var feed = (await FeedAsync(client)).TakeLast(120).ToList();
        await Task.Delay(500);
        Assert.Empty(receiver.Attempts);

        StoreProxy store = null!;
        var deliverer = writer.OnSameStore();
        deliverer.ExtraServices = services => StoreProxy.Wrap(services, proxy => store = proxy);
        deliverer.ExtraSettings["Webhooks:LeaseRenewal"] = "00:00:05";
        deliverer.ExtraSettings["Webhooks:LeaseDuration"] = "00:00:20";
        await using var delivering = await StartAsync(deliverer);
        await WaitUntilSettledAsync(deliverer, id);

        AssertEachOnceInOrderPerEntity(feed, receiver.Acknowledged);
        Assert.InRange(store.CallsTo("SaveDeliveryProgressAsync"), 1, 3);
    }

    [Fact]
    public async Task SecretsAreNeverLoggedAtAnyLevel()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var logs = new LogCapture();
        var service = CreateService();
        service.ExtraSettings["Logging:LogLevel:Default"] = "Trace";
        service.ExtraSettings["Logging:LogLevel:System.Net.Http.HttpClient"] = "Trace";
        service.ExtraSettings["Logging:LogLevel:Microsoft"] = "Trace";
        service.ExtraServices = services => services.AddSingleton<ILoggerProvider>(logs);
        await using var started = await StartAsync(service);
        receiver.Failing = true;

        var (id, secret) = await SubscribeAsync(service, receiver);
        (await service.Client(CpmService.AdminKey).PostAsync("/Webhooks", $$"""{"url": "{{receiver.Url}}", "secret": "{{secret[..10]}}"}""")).AssertStatus(HttpStatusCode.BadRequest);
        await service.Client().CreateTeamAsync();
        await WaitUntilAsync(() => Task.FromResult(receiver.Attempts.Count >= 2));
        receiver.Failing = false;
        await WaitUntilAsync(() => Task.FromResult(receiver.Acknowledged.Count == 1));
        (await service.Client(CpmService.AdminKey).GetAsync($"/Webhooks/{id}")).AssertStatus(HttpStatusCode.OK);

        Assert.Contains("HTTP 500", logs.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, logs.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(secret[..10], logs.Text, StringComparison.Ordinal);
    }

    private static async Task<CpmService> StartAsync(CpmService service)
    {
        foreach (var (key, value) in Fast)
        {
            service.ExtraSettings.TryAdd(key, value);
        }

        await service.InitializeAsync();
        return service;
    }

    private static async Task<(string Id, string Secret)> SubscribeAsync(CpmService service, WebhookReceiver receiver)
    {
        var secret = "secret-" + Guid.NewGuid().ToString("N");
        var reply = await service.Client(CpmService.AdminKey).PostAsync("/Webhooks", $$"""{"url": "{{receiver.Url}}", "secret": "{{secret}}"}""");
        reply.AssertStatus(HttpStatusCode.Created);
        return ((string)reply.Json()["id"]!, secret);
    }

    private static async Task<List<JsonObject>> FeedAsync(CpmClient client) =>
        [.. (await client.GetAsync("/Events?limit=1000")).Json()["events"]!.AsArray().Select(e => e!.AsObject())];

    /// <summary>Waits until the subscription has nothing pending (every event was acknowledged before its cursor moved); its state then.</summary>
    private static async Task<JsonObject> WaitUntilSettledAsync(CpmService service, string id)
    {
        JsonObject state = null!;
        await WaitUntilAsync(async () =>
        {
            state = (await service.Client(CpmService.AdminKey).GetAsync($"/Webhooks/{id}")).Json();
            return (long)state["pending"]! == 0;
        });
        return state;
    }

    /// <summary>Every event of <paramref name="feed"/> acknowledged exactly once, each entity's in feed order.</summary>
    private static void AssertEachOnceInOrderPerEntity(List<JsonObject> feed, List<WebhookAttempt> acknowledged)
    {
        var ids = feed.Select(e => (string)e["event_id"]!).ToHashSet();
        var received = acknowledged.Select(a => a.EventId).Where(ids.Contains).ToList();
        Assert.Equal(ids.Order(), received.Order());
        AssertInOrderPerEntity(feed, acknowledged);
    }

    private static void AssertInOrderPerEntity(List<JsonObject> feed, List<WebhookAttempt> acknowledged)
    {
        var ids = feed.Select(e => (string)e["event_id"]!).ToHashSet();
        foreach (var entity in feed.GroupBy(e => (string)e["entity_id"]!))
        {
            var expected = entity.Select(e => (string)e["event_id"]!).ToList();

            // First acknowledgements, in arrival order: a duplicate around a takeover does not reorder.
            var arrived = acknowledged.Select(a => a.Event).Where(e => (string)e["entity_id"]! == entity.Key && ids.Contains((string)e["event_id"]!))
                .Select(e => (string)e["event_id"]!).Distinct().ToList();
            Assert.Equal(expected, arrived);
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for webhook delivery");
            await Task.Delay(50);
        }
    }
}

public sealed class SqliteWebhookTests : WebhookTests
{
    protected override CpmService CreateService() => new SqliteService();
}
