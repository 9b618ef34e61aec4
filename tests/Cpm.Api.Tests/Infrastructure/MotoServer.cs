using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Cpm.Api.Tests.Infrastructure;

/// <summary>
/// moto's DynamoDB (the <c>moto_server</c> command, run by the Python it is installed in) on a free
/// loopback port, one for the whole test run: started on first use, killed when the test process
/// exits, and it exits by itself when its standard input closes, so it never outlives a crashed run.
/// moto's transactions are not atomic under concurrent requests (real DynamoDB's are), so the
/// launcher serialises requests; races between our own reads and writes stay visible. It also
/// makes moto's transactions and queries cost what they touch rather than the whole table.
/// </summary>
public sealed class MotoServer : IDisposable
{
    // The launcher, beside this file and copied next to the tests; the benchmark runs the same file.
    private static readonly string Launcher = Path.Combine(AppContext.BaseDirectory, "Infrastructure", "moto_launcher.py");

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly Lazy<Task<MotoServer>> SharedServer = new(StartAsync);

    private readonly Process _process;

    private MotoServer(Process process, string url)
    {
        _process = process;
        Url = url;
    }

    public string Url { get; }

    /// <summary>The run's server; each fixture uses its own table in it.</summary>
    public static Task<MotoServer> SharedAsync() => SharedServer.Value;

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }

        _process.Dispose();
    }

    private static async Task<MotoServer> StartAsync()
    {
        var port = FreePort();
        var start = new ProcessStartInfo("python3")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { Launcher, "-H", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("python3 did not start");
        var output = new ConcurrentQueue<string>();
        process.OutputDataReceived += (_, line) => Keep(output, line.Data);
        process.ErrorDataReceived += (_, line) => Keep(output, line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new MotoServer(process, $"http://127.0.0.1:{port}");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Dispose();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var waited = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException(
                    $"moto_server exited with {process.ExitCode} (install it with: python3 -m pip install 'moto[server]'):\n{string.Join('\n', output)}");
            }

            try
            {
                using var response = await http.GetAsync($"{server.Url}/moto-api/");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return server;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Still importing.
            }

            if (waited.Elapsed > StartTimeout)
            {
                server.Dispose();
                throw new TimeoutException($"moto_server did not answer on {server.Url} within {StartTimeout.TotalSeconds} s:\n{string.Join('\n', output)}");
            }

            await Task.Delay(100);
        }
    }

    private static void Keep(ConcurrentQueue<string> output, string? line)
    {
        if (line is null)
        {
            return;
        }

        output.Enqueue(line);
        while (output.Count > 50)
        {
            output.TryDequeue(out _);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
