using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Cpm.Api.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Cpm.Api.Tests.Fleet;

/// <summary>
/// The balancer does not retry here (as an ALB does not), and team creates are in flight for 300 ms
/// (the fake ODS's delay), so only the nodes' graceful shutdown can keep every request whole.
/// </summary>
public sealed class RollingRestartFleet : ServiceFleet
{
    protected override bool RetryConnectionFailures => false;

    protected override TimeSpan OdsDelay => TimeSpan.FromMilliseconds(300);
}

/// <summary>
/// A rolling restart of all three nodes (SIGTERM, wait for the exit, start again, wait until the
/// balancer's <c>/_ready</c> checks take it back) under steady load through HAProxy fails no request.
/// A webhook subscription is delivered throughout: a stopping node saves its progress and releases
/// its lease, so the receiver gets every event once, in order per entity.
/// </summary>
[Collection(FleetsTakeTurns.Name)]
public sealed class RollingRestartTests(RollingRestartFleet fleet, ITestOutputHelper output) : IClassFixture<RollingRestartFleet>
{
    private const int Workers = 6;
    private const string Secret = "rolling-webhook-secret-0c4f92a8";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task RestartingEveryNodeInTurnUnderLoadFailsNoRequest()
    {
        var client = fleet.Client();
        var stopwatch = Stopwatch.StartNew();
        await using var receiver = await WebhookReceiver.StartAsync(stopwatch);
        await fleet.SubscribeAsync(receiver.Url, Secret);
        var team = (string)(await client.CreateTeamAsync())["id"]!;
        var failures = new ConcurrentQueue<string>();
        var answered = 0;
        using var stop = new CancellationTokenSource();

        // Team creates (slow: they ask ODS), product creates and reads, round the clock.
        var workers = Enumerable.Range(0, Workers).Select(worker => Task.Run(async () =>
        {
            for (var n = worker; !stop.IsCancellationRequested; n++)
            {
                var (method, path, body, expected) = (n % 3) switch
                {
                    0 => (HttpMethod.Post, "/ProductTeam", $$"""{"ods_code": "{{Unique.OdsCode()}}", "name": "Rolling {{worker}}-{{n}}"}""", HttpStatusCode.Created),
                    1 => (HttpMethod.Post, $"/ProductTeam/{team}/Product", $$"""{"name": "Rolling {{worker}}-{{n}}"}""", HttpStatusCode.Created),
                    _ => (HttpMethod.Get, $"/ProductTeam/{team}", null, HttpStatusCode.OK),
                };
                try
                {
                    var reply = await client.SendAsync(method, path, body);
                    if (reply.Status == expected)
                    {
                        Interlocked.Increment(ref answered);
                    }
                    else
                    {
                        failures.Enqueue($"{stopwatch.Elapsed.TotalSeconds:0.00} s {method} {path}: {(int)reply.Status} {reply.Body}");
                    }
                }
                catch (Exception failure) when (failure is HttpRequestException or TaskCanceledException)
                {
                    failures.Enqueue($"{stopwatch.Elapsed.TotalSeconds:0.00} s {method} {path}: {failure.Message}");
                }
            }
        })).ToList();

        await Task.Delay(TimeSpan.FromSeconds(1));
        var timeline = new List<string>();
        for (var node = 0; node < ServiceFleet.Size; node++)
        {
            var before = Volatile.Read(ref answered);
            var stopping = stopwatch.Elapsed;
            Assert.Equal(0, await fleet.StopAsync(node));

            // Taken out by the failing /_ready checks while it drained, before it stopped serving.
            var states = await fleet.Balancer.StatesAsync();
            Assert.StartsWith("DOWN", states[node]);
            await fleet.StartNodeAsync(node);
            await fleet.Balancer.WaitForStatesAsync(["UP", "UP", "UP"], Bound);
            timeline.Add($"node {node}: stopped in {(stopwatch.Elapsed - stopping).TotalSeconds:0.0} s with the restart, {Volatile.Read(ref answered) - before} answers meanwhile");

            // Back in the rotation: the restarted node answers some of the load before the next one goes.
            await ServedSomeAsync(fleet.Node(node));
        }

        await stop.CancelAsync();
        await Task.WhenAll(workers).WaitAsync(Bound);
        var feed = await fleet.ReadWholeFeedAsync();
        var deliveries = await FleetDeliveries.AllOfAsync(receiver, feed);

        output.WriteLine($"{answered} requests answered by {Workers} clients in {stopwatch.Elapsed.TotalSeconds:0.0} s, {failures.Count} failed");
        timeline.ForEach(output.WriteLine);
        output.WriteLine($"webhook: {deliveries.Count} deliveries of {feed.Count} events");
        Assert.Empty(failures);
        FleetDeliveries.AssertSignedAsInTheFeedAndInOrderPerEntity(deliveries, feed, Secret, repeatAllowed: (_, _) => false);
        for (var node = 0; node < ServiceFleet.Size; node++)
        {
            Assert.Contains("Stopping: /_ready answers 503", fleet.StoppedOutput[node], StringComparison.Ordinal);
        }
    }

    /// <summary>Waits (at most 30 s) until the node's access log shows it answered a request of the load.</summary>
    private static async Task ServedSomeAsync(ServiceProcess node)
    {
        var waited = Stopwatch.StartNew();
        while (!node.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.StartsWith('{') ? JsonNode.Parse(line) : null)
            .Any(line => ((string?)line?["Path"])?.StartsWith("/ProductTeam", StringComparison.Ordinal) == true))
        {
            Assert.True(waited.Elapsed < Bound, "The restarted node answered none of the load within 30 s.");
            await Task.Delay(100);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class FleetsTakeTurns
{
    /// <summary>The fleets take turns: each runs three services, and moto serves one request at a time.</summary>
    public const string Name = "Fleet";
}
