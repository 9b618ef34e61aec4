using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Cpm.Api.SmokeTests;

/// <summary>
/// The deployment under test. With <c>CPM_BASE_URL</c> set: that deployment, with
/// <c>CPM_API_KEY</c> and <c>CPM_ODS_CODE</c> (a code its ODS accepts). Without it: the service as
/// published next to these tests (service/), started as its own process in Production on a fresh
/// SQLite file with a fake ODS, and killed at the end.
/// </summary>
public sealed partial class Deployment : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly StringBuilder _output = new();
    private Process? _service;
    private FakeOds? _ods;
    private string? _directory;

    public Uri BaseUrl { get; private set; } = null!;

    public string ApiKey { get; private set; } = "";

    public string OdsCode { get; private set; } = "";

    public HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable("CPM_BASE_URL") is { Length: > 0 } baseUrl)
        {
            BaseUrl = new Uri(baseUrl.TrimEnd('/') + "/");
            ApiKey = Required("CPM_API_KEY");
            OdsCode = Required("CPM_ODS_CODE");
        }
        else
        {
            await StartPublishedServiceAsync();
        }

        Http = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task DisposeAsync()
    {
        Http?.Dispose();
        if (_service is not null)
        {
            _service.Kill(entireProcessTree: true);
            await _service.WaitForExitAsync();
            _service.Dispose();
        }

        if (_ods is not null)
        {
            await _ods.DisposeAsync();
        }

        if (_directory is not null)
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private static string Required(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"CPM_BASE_URL is set, so {name} must be too (see docs/DEPLOY.md, 'Smoke tests').");

    private async Task StartPublishedServiceAsync()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "service", "Cpm.Api.dll");
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"{dll} is missing: building this project publishes the service there.");
        }

        _ods = await FakeOds.StartAsync();
        _directory = Directory.CreateTempSubdirectory("cpm-smoke-").FullName;
        ApiKey = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        OdsCode = "SMK01";
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = _directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            dll, "--urls", "http://127.0.0.1:0", $"--Storage:Sqlite:Path={Path.Combine(_directory, "cpm.db")}",
            $"--Auth:ApiKeys:0={ApiKey}", $"--Ods:BaseUrl={_ods.BaseUrl}",
        })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment.Remove("ASPNETCORE_URLS");
        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        _service = new Process { StartInfo = start, EnableRaisingEvents = true };
        _service.Exited += (_, _) => listening.TrySetException(new InvalidOperationException("The service exited."));
        DataReceivedEventHandler record = (_, line) =>
        {
            if (line.Data is null)
            {
                return;
            }

            lock (_output)
            {
                _output.AppendLine(line.Data);
            }

            if (ListeningOn().Match(line.Data) is { Success: true } match)
            {
                listening.TrySetResult(match.Groups[1].Value);
            }
        };
        _service.OutputDataReceived += record;
        _service.ErrorDataReceived += record;
        _service.Start();
        _service.BeginOutputReadLine();
        _service.BeginErrorReadLine();
        try
        {
            BaseUrl = new Uri(await listening.Task.WaitAsync(StartTimeout) + "/");
        }
        catch (Exception failure) when (failure is InvalidOperationException or TimeoutException)
        {
            lock (_output)
            {
                throw new InvalidOperationException($"The published service did not start: {failure.Message}\n{_output}", failure);
            }
        }
    }

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningOn();
}

/// <summary>One deployment for every smoke test: a real one, or one published service started once.</summary>
[CollectionDefinition(Name)]
public sealed class SharedDeployment : ICollectionFixture<Deployment>
{
    public const string Name = "deployment";
}
