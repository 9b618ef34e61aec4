using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Amazon.DynamoDBv2;
using Amazon.Runtime;

namespace Cpm.Api.Tests.Infrastructure;

/// <summary>
/// A fleet as deployed: three service processes (the real <c>Cpm.Api.dll</c>, Production) on one
/// DynamoDB table in the run's moto, behind HAProxy, all on loopback. Each node keeps its port
/// across restarts, so the balancer finds it again. Webhook leases last 3 s (renewed every second)
/// and nodes look for free ones every 0.5 s; an admin client may manage subscriptions. One fleet
/// per test class; everything stops with it.
/// </summary>
public abstract class ServiceFleet : IAsyncLifetime
{
    public const string ApiKey = "fleet-key-3f8a1c5e9d";
    public const string AdminKey = "fleet-admin-key-8c2e4a71";
    public const int Size = 3;
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(3);
    public static readonly TimeSpan LeasePollInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>Long enough for HAProxy (checks every 200 ms, down after 2 failures) to take a stopping node out, on a busy machine.</summary>
    public static readonly TimeSpan DrainDelay = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan StopBound = TimeSpan.FromSeconds(30);

    private readonly string _tableName = $"cpm-fleet-{Guid.NewGuid():N}";
    private readonly ServiceProcess?[] _nodes = new ServiceProcess?[Size];
    private readonly int[] _ports = Enumerable.Range(0, Size).Select(_ => FreePort()).ToArray();
    private readonly string _directory = Directory.CreateTempSubdirectory("cpm-fleet-").FullName;
    private HttpClient _balancerHttp = null!;

    public MotoServer Moto { get; private set; } = null!;

    public FakeOrd Ord { get; private set; } = null!;

    public HaProxy Balancer { get; private set; } = null!;

    /// <summary>Whether HAProxy sends a request again to another node when a connection cannot be made.</summary>
    protected abstract bool RetryConnectionFailures { get; }

    /// <summary>How long the fake ODS takes to answer, so team creates are in flight for a while.</summary>
    protected virtual TimeSpan OdsDelay => TimeSpan.Zero;

    public ServiceProcess Node(int index) => _nodes[index] ?? throw new InvalidOperationException($"Node {index} is not running.");

    /// <summary>A client through the balancer, as users reach the fleet; it never sends a request twice.</summary>
    public CpmClient Client(string? apiKey = ApiKey) => new(_balancerHttp, apiKey, "1");

    public async Task InitializeAsync()
    {
        Moto = await MotoServer.SharedAsync();
        Ord = await FakeOrd.StartAsync(OdsDelay);

        // The first node creates the table; the others find it.
        await StartNodeAsync(0);
        await Task.WhenAll(Enumerable.Range(1, Size - 1).Select(StartNodeAsync));
        Balancer = await HaProxy.StartAsync(_ports, RetryConnectionFailures);
        _balancerHttp = new HttpClient { BaseAddress = new Uri(Balancer.Url), Timeout = TimeSpan.FromSeconds(60) };

        // A connection per request: .NET silently sends a request again when a reused connection
        // closes before any answer, which a node killed mid-request causes; the tests must know
        // that every request was sent once.
        _balancerHttp.DefaultRequestHeaders.ConnectionClose = true;
    }

    /// <summary>Subscribes <paramref name="url"/> through the API, and waits for a node to take its lease: that node's index.</summary>
    public async Task<int> SubscribeAsync(string url, string secret)
    {
        (await Client(AdminKey).PostAsync("/Webhooks", $$"""{"url": "{{url}}", "secret": "{{secret}}"}""")).AssertStatus(HttpStatusCode.Created);
        var taken = $"Webhook delivery to {url} is now held by node";
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(30))
        {
            for (var node = 0; node < Size; node++)
            {
                if (_nodes[node]?.Output.Contains(taken, StringComparison.Ordinal) == true)
                {
                    return node;
                }
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"No node took the lease of {url} within 30 s.");
    }

    /// <summary>The whole change feed, checked gapless: its cursor is the last event's number, and numbers start at 1.</summary>
    public async Task<List<JsonObject>> ReadWholeFeedAsync()
    {
        var events = new List<JsonObject>();
        var cursor = "0";
        while (true)
        {
            var page = await Client().GetAsync($"/Events?after={cursor}&limit=1000");
            page.AssertStatus(HttpStatusCode.OK);
            var body = page.Json();
            var pageEvents = body["events"]!.AsArray().Select(item => item!.AsObject()).ToList();
            if (pageEvents.Count == 0)
            {
                Assert.Equal(events.Count.ToString(CultureInfo.InvariantCulture), cursor);
                return events;
            }

            events.AddRange(pageEvents);
            cursor = (string)body["next_cursor"]!;
        }
    }

    /// <summary>SIGKILL: the node dies at once, mid-request, as in a crash; returns once the process is gone.</summary>
    public async Task KillAsync(int index)
    {
        Node(index).Kill();
        StoppedOutput[index] = Node(index).Output;
        await Node(index).DisposeAsync();
        _nodes[index] = null;
    }

    /// <summary>SIGTERM, as an orchestrator stops a task; returns the exit code once the node has stopped.</summary>
    public async Task<int> StopAsync(int index)
    {
        await Node(index).TerminateAsync();
        var exitCode = await Node(index).ExitCodeAsync(StopBound);
        StoppedOutput[index] = Node(index).Output;
        await Node(index).DisposeAsync();
        _nodes[index] = null;
        return exitCode;
    }

    /// <summary>The output of each node's last stopped or killed process.</summary>
    public string[] StoppedOutput { get; } = new string[Size];

    /// <summary>Starts node <paramref name="index"/> on its own port (again, after a stop).</summary>
    public async Task StartNodeAsync(int index)
    {
        string[] settings =
        [
            "--urls", $"http://127.0.0.1:{_ports[index]}",
            "--Storage:Provider=DynamoDb",
            $"--Storage:DynamoDb:TableName={_tableName}",
            $"--Storage:DynamoDb:ServiceUrl={Moto.Url}",
            "--Storage:DynamoDb:CreateTable=true",
            $"--Shutdown:DrainDelay={DrainDelay.ToString("c", CultureInfo.InvariantCulture)}",
            "--Auth:Clients:0:Name=fleet-admin",
            $"--Auth:Clients:0:KeyHash={Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(AdminKey)))}",
            "--Auth:Clients:0:Scopes:0=admin",
            $"--Webhooks:LeaseDuration={LeaseDuration.ToString("c", CultureInfo.InvariantCulture)}",
            "--Webhooks:LeaseRenewal=00:00:01",
            $"--Webhooks:LeasePollInterval={LeasePollInterval.ToString("c", CultureInfo.InvariantCulture)}",
            "--Webhooks:PollInterval=00:00:00.100",
        ];
        _nodes[index] = await ServiceProcess.StartAsync(Path.Combine(_directory, $"unused-{index}.db"), Ord.BaseUrl, ApiKey, settings);
    }

    public async Task DisposeAsync()
    {
        _balancerHttp?.Dispose();
        if (Balancer is not null)
        {
            await Balancer.DisposeAsync();
        }

        foreach (var node in _nodes)
        {
            if (node is not null)
            {
                await node.DisposeAsync();
            }
        }

        if (Ord is not null)
        {
            await Ord.DisposeAsync();
        }

        // Keeps the shared moto small; the table is this fleet's alone.
        if (Moto is not null)
        {
            using var dynamo = new AmazonDynamoDBClient(
                new BasicAWSCredentials("local", "local"),
                new AmazonDynamoDBConfig { ServiceURL = Moto.Url, AuthenticationRegion = Environment.GetEnvironmentVariable("AWS_REGION") ?? Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION") ?? "us-east-1" });
            await dynamo.DeleteTableAsync(_tableName);
        }

        Directory.Delete(_directory, recursive: true);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
