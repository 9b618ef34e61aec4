using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Cpm.Api.Storage;
using Cpm.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Cpm.Api.Tests.Api;

/// <summary>
/// Webhooks from the durable event log: a receiver that fails at first still gets every event,
/// in order per entity, signed, across a restart of the service, and never an acknowledged one twice.
/// </summary>
public abstract class WebhookTests
{
    private const string Secret = "webhook-secret";

    protected abstract CpmService CreateService();

    [Fact]
    public async Task AFailingReceiverGetsEveryEventInOrderAfterARestartWithValidSignatures()
    {
        await using var receiver = await Receiver.StartAsync();
        var service = CreateService();
        service.ExtraSettings["Webhooks:Subscriptions:0:Url"] = receiver.Url;
        service.ExtraSettings["Webhooks:Subscriptions:0:Secret"] = Secret;
        service.ExtraSettings["Webhooks:FirstRetryDelay"] = "00:00:00.050";
        service.ExtraSettings["Webhooks:MaxRetryDelay"] = "00:00:00.200";
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

            var feed = (await client.GetAsync("/Events?limit=1000")).Json()["events"]!.AsArray();
            var expected = feed.Select(e => (string)e!["event_id"]!).ToList();
            var acknowledged = receiver.Acknowledged.Select(a => (string)JsonNode.Parse(a.Body)!["event_id"]!).ToList();
            Assert.Equal(expected, acknowledged);
            Assert.All(receiver.Attempts, attempt =>
                Assert.Equal("sha256=" + Convert.ToHexString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(attempt.Body))).ToLowerInvariant(), attempt.Signature));
            Assert.All(receiver.Attempts, attempt => Assert.Equal("application/json", attempt.ContentType));
            Assert.Equal(feed.Select(e => e!.ToJsonString()), receiver.Acknowledged.Select(a => JsonNode.Parse(a.Body)!.ToJsonString()));
            Assert.Contains(receiver.Attempts, attempt => !attempt.Acknowledged);
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

    /// <summary>A webhook receiver on loopback that records every attempt and fails on demand.</summary>
    private sealed class Receiver : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private Receiver(WebApplication app) => _app = app;

        public string Url { get; private set; } = "";

        public volatile bool Failing;

        public ConcurrentQueue<Attempt> Attempts { get; } = new();

        public List<Attempt> Acknowledged => [.. Attempts.Where(a => a.Acknowledged)];

        public static async Task<Receiver> StartAsync()
        {
            var app = LoopbackServer.Create();
            var receiver = new Receiver(app);
            app.MapPost("/hook", async (HttpRequest request) =>
            {
                var body = await new StreamReader(request.Body).ReadToEndAsync();
                var failing = receiver.Failing;
                receiver.Attempts.Enqueue(new Attempt(body, request.Headers["X-Cpm-Signature"].ToString(), request.ContentType ?? "", !failing));
                return failing ? Results.StatusCode(500) : Results.Ok();
            });
            await app.StartAsync();
            receiver.Url = LoopbackServer.AddressOf(app) + "/hook";
            return receiver;
        }

        public ValueTask DisposeAsync() => _app.DisposeAsync();
    }

    private sealed record Attempt(string Body, string Signature, string ContentType, bool Acknowledged);
}

public sealed class SqliteWebhookTests : WebhookTests
{
    protected override CpmService CreateService() => new SqliteService();
}
