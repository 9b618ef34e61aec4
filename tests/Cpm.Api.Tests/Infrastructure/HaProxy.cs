using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Cpm.Api.Tests.Infrastructure;

/// <summary>
/// Debian's HAProxy in front of service nodes, on a free loopback port, with its statistics page on
/// another. Health checks are <c>GET /_ready</c> every 200 ms (down after 2 failures, up after 2
/// passes; an answer may take up to 3 s, as moto is slow under load). With retries on, a request is sent again, to another node, only when the connection to a
/// node could not be made, so a POST that may have reached a node is never sent twice; with them
/// off, nothing is ever sent again, as with a balancer that does not retry. HAProxy runs under a shell
/// that ends it when the test process's end of its standard input closes, so it never outlives a
/// crashed run; it is killed on dispose.
/// </summary>
public sealed class HaProxy : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);

    private readonly Process _process;
    private readonly string _directory;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly HttpClient _stats = new() { Timeout = TimeSpan.FromSeconds(5) };

    private HaProxy(Process process, string directory, string url, string statsUrl)
    {
        _process = process;
        _directory = directory;
        Url = url;
        StatsUrl = statsUrl;
    }

    /// <summary>Where clients send requests, such as <c>http://127.0.0.1:41234</c>.</summary>
    public string Url { get; }

    public string StatsUrl { get; }

    /// <summary>Starts HAProxy balancing over the nodes on <paramref name="nodePorts"/> (named n0, n1, ...).</summary>
    public static async Task<HaProxy> StartAsync(IReadOnlyList<int> nodePorts, bool retryConnectionFailures)
    {
        var directory = Directory.CreateTempSubdirectory("cpm-haproxy-").FullName;
        var port = FreePort();
        var statsPort = FreePort();
        var configuration = Path.Combine(directory, "haproxy.cfg");
        await File.WriteAllTextAsync(configuration, Configuration(port, statsPort, nodePorts, retryConnectionFailures));

        var start = new ProcessStartInfo("sh")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-c", "haproxy -db -f \"$0\" & child=$!; cat >/dev/null; kill $child", configuration })
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("sh did not start");
        }
        catch (Exception failure) when (failure is System.ComponentModel.Win32Exception)
        {
            Directory.Delete(directory, recursive: true);
            throw;
        }

        var proxy = new HaProxy(process, directory, $"http://127.0.0.1:{port}", $"http://127.0.0.1:{statsPort}/stats;csv");
        process.OutputDataReceived += (_, line) => proxy.Keep(line.Data);
        process.ErrorDataReceived += (_, line) => proxy.Keep(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await proxy.WaitForStatesAsync(nodePorts.Select(_ => "UP").ToArray(), StartTimeout);
        }
        catch
        {
            await proxy.DisposeAsync();
            throw;
        }

        return proxy;
    }

    /// <summary>Everything HAProxy wrote (the last 200 lines): its alerts and server state changes.</summary>
    public string Output => string.Join('\n', _output);

    /// <summary>Each node's state as the health checks see it (<c>UP</c>, <c>DOWN</c>, or a transition such as <c>UP 1/2</c>).</summary>
    public async Task<IReadOnlyList<string>> StatesAsync()
    {
        var csv = await _stats.GetStringAsync(StatsUrl);
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = lines[0].TrimStart('#', ' ').Split(',');
        int Column(string name) => Array.IndexOf(header, name);
        return lines.Skip(1)
            .Select(line => line.Split(','))
            .Where(fields => fields[Column("pxname")] == "nodes" && fields[Column("svname")].StartsWith('n'))
            .OrderBy(fields => int.Parse(fields[Column("svname")][1..], CultureInfo.InvariantCulture))
            .Select(fields => fields[Column("status")])
            .ToList();
    }

    /// <summary>Waits until the nodes' states are exactly <paramref name="expected"/>, in node order.</summary>
    public async Task WaitForStatesAsync(string[] expected, TimeSpan bound)
    {
        var waited = Stopwatch.StartNew();
        IReadOnlyList<string> states = [];
        while (waited.Elapsed < bound)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"HAProxy exited with {_process.ExitCode} (apt-get install haproxy):\n{Output}");
            }

            try
            {
                states = await StatesAsync();
                if (states.SequenceEqual(expected))
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"HAProxy's nodes were [{string.Join(", ", states)}], not [{string.Join(", ", expected)}], after {bound.TotalSeconds} s:\n{Output}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }

        _process.Dispose();
        _stats.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private static string Configuration(int port, int statsPort, IReadOnlyList<int> nodePorts, bool retryConnectionFailures)
    {
        // Only a connection that could not be made is tried again (on another node): a request that
        // reached a node is never sent twice, whatever happened to its answer.
        var retries = retryConnectionFailures ? "retries 3\n    retry-on conn-failure\n    option redispatch 1" : "retries 0";
        var servers = string.Join('\n', nodePorts.Select((nodePort, index) => $"    server n{index} 127.0.0.1:{nodePort} check"));
        return $"""
            global
                maxconn 2000

            defaults
                mode http
                timeout connect 1s
                timeout client 60s
                timeout server 60s
                timeout queue 10s
                # A slow answer from a busy node is not a failed check; a refused connection or a 503 is.
                timeout check 3s
                {retries}

            frontend api
                bind 127.0.0.1:{port}
                default_backend nodes

            backend nodes
                balance roundrobin
                option httpchk GET /_ready
                http-check expect status 200
                default-server inter 200ms fall 2 rise 2
            {servers}

            listen stats
                bind 127.0.0.1:{statsPort}
                stats enable
                stats uri /stats

            """;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > 200)
        {
            _output.TryDequeue(out _);
        }
    }
}
