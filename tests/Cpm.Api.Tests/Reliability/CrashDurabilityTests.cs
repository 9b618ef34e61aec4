using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Cpm.Api.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace Cpm.Api.Tests.Reliability;

/// <summary>
/// The real service is killed with SIGKILL while clients create products as fast as they can;
/// after a restart on the same file, every product that was acknowledged with 201 is there.
/// </summary>
public sealed class CrashDurabilityTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string ApiKey = "crash-key-7b1c0e";
    private const int Clients = 8;
    private static readonly TimeSpan LoadDuration = TimeSpan.FromSeconds(2);

    private readonly string _directory = Directory.CreateTempSubdirectory("cpm-crash-").FullName;
    private FakeOrd _ord = null!;

    private string DatabasePath => Path.Combine(_directory, "cpm.db");

    public async Task InitializeAsync() => _ord = await FakeOrd.StartAsync();

    public async Task DisposeAsync()
    {
        await _ord.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task EveryProductAcknowledgedBeforeSigkillIsReadableAfterRestart()
    {
        var acknowledged = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        var unexpected = new ConcurrentQueue<string>();
        var cutOff = 0;
        var stopwatch = Stopwatch.StartNew();

        await using (var service = await ServiceProcess.StartAsync(DatabasePath, _ord.BaseUrl, ApiKey))
        {
            var client = service.Client(ApiKey);
            var teams = new List<string>();
            for (var i = 0; i < 4; i++)
            {
                teams.Add((string)(await client.CreateTeamAsync())["id"]!);
            }

            using var stop = new CancellationTokenSource();
            var workers = Enumerable.Range(0, Clients).Select(worker => Task.Run(async () =>
            {
                for (var n = 0; !stop.IsCancellationRequested; n++)
                {
                    try
                    {
                        var reply = await client.PostAsync($"/ProductTeam/{teams[(worker + n) % teams.Count]}/Product", $$"""{"name": "Crash {{worker}}-{{n}}"}""");
                        if (reply.Status == HttpStatusCode.Created)
                        {
                            acknowledged[(string)reply.Json()["id"]!] = reply.Body;
                        }
                        else
                        {
                            unexpected.Enqueue($"{(int)reply.Status} {reply.Body}");
                        }
                    }
                    catch (Exception failure) when (failure is HttpRequestException or TaskCanceledException)
                    {
                        // In flight when the process died, or sent after: the outcome is unknown to the client.
                        Interlocked.Increment(ref cutOff);
                        await Task.Delay(10);
                    }
                }
            })).ToList();

            await Task.Delay(LoadDuration);
            service.Kill();
            await stop.CancelAsync();
            await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(30));
        }

        Assert.Empty(unexpected);
        Assert.True(acknowledged.Count >= 50, $"Only {acknowledged.Count} products were acknowledged: the load did not run.");

        var lost = new List<string>();
        await using (var restarted = await ServiceProcess.StartAsync(DatabasePath, _ord.BaseUrl, ApiKey))
        {
            var client = restarted.Client(ApiKey);
            foreach (var (id, body) in acknowledged)
            {
                var reply = await client.GetAsync($"/Product/{id}");
                if (reply.Status != HttpStatusCode.OK || reply.Body != body)
                {
                    lost.Add($"{id}: {(int)reply.Status} {reply.Body}");
                }
            }

            var team = await client.CreateTeamAsync();
            await client.CreateProductAsync((string)team["id"]!);
        }

        output.WriteLine($"lost {lost.Count} of {acknowledged.Count} acknowledged products ({Clients} clients, {LoadDuration.TotalSeconds} s, "
            + $"{cutOff} requests cut off by the kill), {stopwatch.Elapsed.TotalSeconds:0.0} s in all");
        Assert.Empty(lost);
        Assert.Equal("ok", IntegrityCheck());
    }

    private string IntegrityCheck()
    {
        using var connection = new SqliteConnection($"Data Source={DatabasePath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA integrity_check";
        return (string)command.ExecuteScalar()!;
    }
}
