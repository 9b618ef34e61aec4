using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using Amazon.Runtime;
using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using Cpm.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Cpm.Api.Tests.Auth;

/// <summary>Api keys kept in an SSM SecureString parameter, read at start-up from a local moto server.</summary>
public sealed class SsmApiKeysTests(SsmApiKeysTests.MotoSsm ssm) : IClassFixture<SsmApiKeysTests.MotoSsm>
{
    [Fact]
    public async Task KeysInSsmParameterAreAcceptedBesideConfiguredKeys()
    {
        var parameter = await ssm.PutSecureStringAsync("ssm-key-a\nssm-key-b\n");
        await using var service = await Service.StartAsync(ssm, new()
        {
            ["Auth:ApiKeys:0"] = "config-key",
            ["Auth:ApiKeysParameter"] = parameter,
        });

        foreach (var key in new[] { "config-key", "ssm-key-a", "ssm-key-b" })
        {
            (await service.Client(key).GetAsync("/_status")).AssertStatus(HttpStatusCode.OK);
        }

        (await service.Client("ssm-key-c").GetAsync("/_status")).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED", "Invalid apikey");
    }

    [Fact]
    public async Task JsonArrayParameterAloneIsEnoughToStart()
    {
        var parameter = await ssm.PutSecureStringAsync("""["json-key-1", "json-key-2"]""");
        await using var service = await Service.StartAsync(ssm, new() { ["Auth:ApiKeysParameter"] = parameter });

        (await service.Client("json-key-2").GetAsync("/_status")).AssertStatus(HttpStatusCode.OK);
        (await service.Client("""["json-key-1", "json-key-2"]""").GetAsync("/_status")).AssertStatus(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task MissingParameterStopsStartUpNamingTheParameter()
    {
        var parameter = $"/cpm/test/missing-{Guid.NewGuid():N}";

        var failure = await Service.StartupFailureAsync(ssm, new() { ["Auth:ApiKeysParameter"] = parameter });

        Assert.Contains($"Could not read the api keys from SSM parameter '{parameter}' (Auth:ApiKeysParameter): ParameterNotFound", failure.Message);
    }

    [Fact]
    public async Task UnreachableSsmStopsStartUpNamingTheParameter()
    {
        var parameter = await ssm.PutSecureStringAsync("never-read-key");

        var failure = await Service.StartupFailureAsync(ssm, new()
        {
            ["Auth:ApiKeysParameter"] = parameter,
            ["Auth:SsmServiceUrl"] = $"http://127.0.0.1:{MotoSsm.FreePort()}",
        });

        Assert.StartsWith($"Could not read the api keys from SSM parameter '{parameter}' (Auth:ApiKeysParameter): ", failure.Message);
    }

    [Fact]
    public async Task MalformedParameterStopsStartUpWithoutRevealingItsValue()
    {
        var parameter = await ssm.PutSecureStringAsync("""["secret-fragment", 42""");

        var failure = await Service.StartupFailureAsync(ssm, new()
        {
            ["Auth:ApiKeys:0"] = "config-key",
            ["Auth:ApiKeysParameter"] = parameter,
        });

        Assert.Equal(
            $"SSM parameter '{parameter}' (Auth:ApiKeysParameter) holds no api keys: put one key per line, or a JSON array of non-empty strings.",
            failure.Message);
        Assert.DoesNotContain("secret-fragment", failure.ToString(), StringComparison.Ordinal);
    }

    /// <summary>The service on a temp SQLite file, with moto's dummy credentials in place of the SDK's default chain.</summary>
    private sealed class Service : IAsyncDisposable
    {
        private readonly string _directory = Directory.CreateTempSubdirectory("cpm-ssm-tests-").FullName;
        private readonly WebApplicationFactory<Program> _factory;

        private Service(MotoSsm ssm, Dictionary<string, string?> settings)
        {
            settings.TryAdd("Auth:SsmServiceUrl", ssm.ServiceUrl);
            settings["Storage:Provider"] = "Sqlite";
            settings["Storage:Sqlite:Path"] = Path.Combine(_directory, "cpm.db");
            // Never called: /_status does not reach ODS.
            settings["Ods:BaseUrl"] = "http://127.0.0.1:9/ORD/2-0-0/organisations";
            _factory = TestHost.Create(settings, services => services.AddSingleton<AWSCredentials>(MotoSsm.Credentials));
        }

        public static async Task<Service> StartAsync(MotoSsm ssm, Dictionary<string, string?> settings)
        {
            var service = new Service(ssm, settings);
            try
            {
                _ = service._factory.Server;
                return service;
            }
            catch
            {
                await service.DisposeAsync();
                throw;
            }
        }

        /// <summary>The exception start-up fails with, unwrapped down to the one the service threw.</summary>
        public static async Task<Exception> StartupFailureAsync(MotoSsm ssm, Dictionary<string, string?> settings)
        {
            await using var service = new Service(ssm, settings);
            var failure = Record.Exception(() => service._factory.Server);
            Assert.NotNull(failure);
            while (failure is AggregateException or TargetInvocationException && failure.InnerException is not null)
            {
                failure = failure.InnerException;
            }

            return Assert.IsType<InvalidOperationException>(failure);
        }

        public CpmClient Client(string apiKey) => new(_factory.CreateDefaultClient(), apiKey, "1");

        public async ValueTask DisposeAsync()
        {
            await _factory.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(_directory, recursive: true);
        }
    }

    /// <summary>
    /// A moto server on a free loopback port for this class, killed with it. Kept private to these
    /// tests; a shared moto fixture for DynamoDB lives elsewhere and the two may be merged.
    /// </summary>
    public sealed class MotoSsm : IAsyncLifetime
    {
        public static readonly AWSCredentials Credentials = new BasicAWSCredentials("testing", "testing");

        private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

        private Process? _process;
        private AmazonSimpleSystemsManagementClient? _client;

        public string ServiceUrl { get; private set; } = "";

        public async Task InitializeAsync()
        {
            var port = FreePort();
            ServiceUrl = $"http://127.0.0.1:{port}";
            var start = new ProcessStartInfo("moto_server", ["-H", "127.0.0.1", "-p", port.ToString()])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            _process = Process.Start(start) ?? throw new InvalidOperationException("moto_server did not start.");
            _process.OutputDataReceived += (_, _) => { };
            _process.ErrorDataReceived += (_, _) => { };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
            await WaitUntilListeningAsync(port);
            // Given only the endpoint, like the service, so both sign for the same region and see the same parameters.
            _client = new AmazonSimpleSystemsManagementClient(Credentials, new AmazonSimpleSystemsManagementConfig { ServiceURL = ServiceUrl });
        }

        /// <summary>A fresh SecureString parameter holding the value; returns its name.</summary>
        public async Task<string> PutSecureStringAsync(string value)
        {
            var name = $"/cpm/test/api-keys-{Guid.NewGuid():N}";
            await _client!.PutParameterAsync(new PutParameterRequest { Name = name, Value = value, Type = ParameterType.SecureString });
            return name;
        }

        public Task DisposeAsync()
        {
            _client?.Dispose();
            if (_process is not null)
            {
                if (!_process.HasExited)
                {
                    _process.Kill(entireProcessTree: true);
                    _process.WaitForExit(TimeSpan.FromSeconds(10));
                }

                _process.Dispose();
            }

            return Task.CompletedTask;
        }

        /// <summary>A loopback port nothing listens on once this returns.</summary>
        public static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        private async Task WaitUntilListeningAsync(int port)
        {
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < StartTimeout)
            {
                if (_process!.HasExited)
                {
                    throw new InvalidOperationException($"moto_server exited with code {_process.ExitCode} before listening on port {port}.");
                }

                try
                {
                    using var probe = new TcpClient();
                    await probe.ConnectAsync(IPAddress.Loopback, port);
                    return;
                }
                catch (SocketException)
                {
                    await Task.Delay(100);
                }
            }

            throw new TimeoutException($"moto_server did not listen on port {port} within {StartTimeout.TotalSeconds:0} s.");
        }
    }
}
