using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Cpm.Api.Tests.Infrastructure;

/// <summary>
/// The real service as its own process (the Cpm.Api.dll built next to the tests) on a free
/// loopback port, in Production, with its console output kept so tests can read the logs.
/// Killed on dispose, so it never outlives the test.
/// </summary>
public sealed partial class ServiceProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private HttpClient? _http;

    private ServiceProcess(Process process) => _process = process;

    public string BaseUrl { get; private set; } = "";

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>
    /// Starts the service on <paramref name="databasePath"/> with <paramref name="odsBaseUrl"/> as ODS
    /// and <paramref name="apiKey"/> as its one key, plus any extra command-line
    /// <paramref name="settings"/>, from <paramref name="workingDirectory"/> (by default the app's own folder).
    /// </summary>
    public static async Task<ServiceProcess> StartAsync(
        string databasePath, string odsBaseUrl, string apiKey, string[]? settings = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] arguments =
        [
            Path.Combine(AppContext.BaseDirectory, "Cpm.Api.dll"),
            "--urls", "http://127.0.0.1:0",
            $"--Storage:Sqlite:Path={databasePath}",
            $"--Auth:ApiKeys:0={apiKey}",
            $"--Ods:BaseUrl={odsBaseUrl}",
            .. settings ?? [],
        ];
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";

        // Far from UTC, so nothing the service writes may lean on the machine's time zone.
        start.Environment["TZ"] = "Asia/Kolkata";
        start.Environment.Remove("ASPNETCORE_URLS");
        start.Environment.Remove("ASPNETCORE_HTTP_PORTS");

        var service = new ServiceProcess(new Process { StartInfo = start, EnableRaisingEvents = true });
        service._process.Exited += (_, _) => service._listening.TrySetException(new InvalidOperationException("The process exited."));
        service._process.OutputDataReceived += (_, line) => service.Record(line.Data);
        service._process.ErrorDataReceived += (_, line) => service.Record(line.Data);
        service._process.Start();
        service._process.BeginOutputReadLine();
        service._process.BeginErrorReadLine();
        try
        {
            service.BaseUrl = await service._listening.Task.WaitAsync(StartTimeout);
            service._http = new HttpClient { BaseAddress = new Uri(service.BaseUrl), Timeout = TimeSpan.FromSeconds(15) };
            var status = await service.Client(apiKey).GetAsync("/_status");
            status.AssertStatus(System.Net.HttpStatusCode.OK);
        }
        catch (Exception failure)
        {
            await service.DisposeAsync();
            throw new InvalidOperationException($"The service did not start: {failure.Message}\n{service.Output}", failure);
        }

        return service;
    }

    /// <summary>
    /// Everything written so far once <paramref name="text"/> has appeared in it: log lines are
    /// written in batches in the background, so a line can arrive a moment after its request's answer.
    /// </summary>
    public async Task<string> OutputOnceItContainsAsync(string text)
    {
        for (var attempt = 0; attempt < 200 && !Output.Contains(text, StringComparison.Ordinal); attempt++)
        {
            await Task.Delay(50);
        }

        var output = Output;
        Assert.True(output.Contains(text, StringComparison.Ordinal), $"'{text}' did not appear in the service's output within 10 s");
        return output;
    }

    /// <summary>
    /// Runs <c>Cpm.Api.dll</c> with <paramref name="arguments"/> in Production until it exits by itself,
    /// for starts that must be refused and for the import verb. A process still running after
    /// <paramref name="bound"/>, or one that starts listening, is killed and reported as exit code null.
    /// </summary>
    public static async Task<(int? ExitCode, string Output)> RunToExitAsync(string[] arguments, TimeSpan bound)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Cpm.Api.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment.Remove("ASPNETCORE_URLS");
        start.Environment.Remove("ASPNETCORE_HTTP_PORTS");
        var output = new StringBuilder();
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Record(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (output)
            {
                output.AppendLine(line);
            }

            if (ListeningOn().IsMatch(line))
            {
                listening.TrySetResult();
            }
        }

        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, line) => Record(line.Data);
        process.ErrorDataReceived += (_, line) => Record(line.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var exited = process.WaitForExitAsync();
        await Task.WhenAny(exited, listening.Task, Task.Delay(bound));
        if (!exited.IsCompleted)
        {
            process.Kill(entireProcessTree: true);
        }

        // Waits for the output streams to close too, so every line is in.
        await process.WaitForExitAsync();
        lock (output)
        {
            return (exited.IsCompletedSuccessfully && !listening.Task.IsCompleted ? process.ExitCode : null, output.ToString());
        }
    }

    /// <summary>A client on the process's one HttpClient; every request is bounded by its timeout.</summary>
    public CpmClient Client(string? apiKey, string? version = "1") =>
        new(_http ?? throw new InvalidOperationException("Not started."), apiKey, version);

    /// <summary>SIGKILL: no shutdown hooks, no flushing, exactly like a crash.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.WaitForExit();
    }

    /// <summary>SIGTERM, as an orchestrator stops a task: the service shuts down gracefully.</summary>
    public async Task TerminateAsync()
    {
        using var signal = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await signal.WaitForExitAsync();
    }

    /// <summary>The exit code once the process has exited by itself; throws if it still runs after <paramref name="bound"/>.</summary>
    public async Task<int> ExitCodeAsync(TimeSpan bound)
    {
        await _process.WaitForExitAsync().WaitAsync(bound);
        return _process.ExitCode;
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        _http?.Dispose();
        return ValueTask.CompletedTask;
    }

    private void Record(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        if (ListeningOn().Match(line) is { Success: true } match)
        {
            _listening.TrySetResult(match.Groups[1].Value);
        }
    }

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningOn();
}
