using System.Diagnostics;
using System.Net;
using Cpm.Api.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Cpm.Api.Tests.Fleet;

/// <summary>
/// What a node does on SIGTERM, on the real process: <c>/_ready</c> answers 503 at once, requests
/// are still served for the drain delay, then the server stops, finishing the requests in flight,
/// and the process exits with 0. Team creates take 1.5 s here (the fake ODS's delay).
/// </summary>
public sealed class GracefulShutdownTests : IAsyncLifetime
{
    private const string ApiKey = "drain-key-61d0b7";
    private static readonly TimeSpan DrainDelay = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan OdsDelay = TimeSpan.FromSeconds(1.5);

    private readonly string _directory = Directory.CreateTempSubdirectory("cpm-drain-").FullName;
    private FakeOrd _ord = null!;

    public async Task InitializeAsync() => _ord = await FakeOrd.StartAsync(OdsDelay);

    public async Task DisposeAsync()
    {
        await _ord.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task OnSigtermTheNodeReportsNotReadyServesThroughTheDrainAndFinishesRequestsInFlight()
    {
        await using var service = await ServiceProcess.StartAsync(
            Path.Combine(_directory, "cpm.db"), _ord.BaseUrl, ApiKey, ["--Shutdown:DrainDelay=00:00:03"]);
        var client = service.Client(ApiKey);
        (await client.GetAsync("/_ready")).AssertStatus(HttpStatusCode.OK);

        var beforeSignal = CreateTeamAsync(client);
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        var signalled = Stopwatch.StartNew();
        await service.TerminateAsync();

        var ready = await client.GetAsync("/_ready");
        for (var attempt = 0; attempt < 20 && ready.Status == HttpStatusCode.OK; attempt++)
        {
            await Task.Delay(50);
            ready = await client.GetAsync("/_ready");
        }

        ready.AssertError(HttpStatusCode.ServiceUnavailable, "SERVICE_UNAVAILABLE", "Not ready");
        Assert.True(signalled.Elapsed < TimeSpan.FromSeconds(1.5), $"/_ready answered 503 only after {signalled.Elapsed.TotalSeconds:0.0} s");

        // Still serving while it drains: reads, and a write that starts now.
        (await client.GetAsync("/_status")).AssertStatus(HttpStatusCode.OK);
        var duringDrain = CreateTeamAsync(client);

        // This one is still running when the drain ends and the server stops: it is finished, not cut off.
        await Task.Delay(TimeSpan.FromTicks(Math.Max(0, (DrainDelay - signalled.Elapsed - TimeSpan.FromMilliseconds(500)).Ticks)));
        var acrossTheStop = CreateTeamAsync(client);

        (await beforeSignal).AssertStatus(HttpStatusCode.Created);
        (await duringDrain).AssertStatus(HttpStatusCode.Created);
        (await acrossTheStop).AssertStatus(HttpStatusCode.Created);
        Assert.True(signalled.Elapsed > DrainDelay, $"The last create answered {signalled.Elapsed.TotalSeconds:0.0} s after SIGTERM, inside the drain.");
        Assert.Equal(0, await service.ExitCodeAsync(TimeSpan.FromSeconds(15)));
        Assert.Contains("Stopping: /_ready answers 503; serving for 3 s more before the server stops", service.Output, StringComparison.Ordinal);
    }

    private static Task<Reply> CreateTeamAsync(CpmClient client) =>
        client.PostAsync("/ProductTeam", $$"""{"ods_code": "{{Unique.OdsCode()}}", "name": "Draining"}""");
}
