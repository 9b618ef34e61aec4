using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Cpm.Api.Tests.Infrastructure;

/// <summary>
/// A service of its own on a fresh SQLite file, for tests that change what the shared fixtures
/// cannot: the ODS address, settings, or a service replaced for the test. Nothing it does (an
/// open circuit breaker, a substituted id source) reaches any other test.
/// </summary>
public sealed class IsolatedService : IAsyncDisposable
{
    public const string ApiKey = CpmService.ApiKey;

    private readonly WebApplicationFactory<Program> _factory;
    private readonly string _directory;
    private Uri? _baseAddress;

    private IsolatedService(WebApplicationFactory<Program> factory, string directory)
    {
        _factory = factory;
        _directory = directory;
    }

    public IServiceProvider Services => _factory.Services;

    /// <summary>Starts the service; with <c>kestrel</c> it serves a real loopback socket instead of the in-memory test server.</summary>
    public static IsolatedService Start(string odsBaseUrl, IReadOnlyDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null, bool kestrel = false)
    {
        var directory = Directory.CreateTempSubdirectory("cpm-reliability-").FullName;
        var all = new Dictionary<string, string?>
        {
            ["Auth:ApiKeys:0"] = ApiKey,
            ["Ods:BaseUrl"] = odsBaseUrl,
            ["Storage:Provider"] = "Sqlite",
            ["Storage:Sqlite:Path"] = Path.Combine(directory, "cpm.db"),
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        var factory = TestHost.Create(all, services);
        var service = new IsolatedService(factory, directory);
        try
        {
            if (kestrel)
            {
                service._baseAddress = TestHost.StartOnLoopback(factory);
            }
            else
            {
                _ = factory.Server;
            }
        }
        catch
        {
            factory.Dispose();
            service.DeleteDirectory();
            throw;
        }

        return service;
    }

    /// <summary>A client whose every request is bounded at 15 s, as the real process's are.</summary>
    public CpmClient Client(string? apiKey = ApiKey, string? version = "1")
    {
        var http = _baseAddress is null ? _factory.CreateDefaultClient() : _factory.CreateDefaultClient(_baseAddress);
        http.Timeout = TimeSpan.FromSeconds(15);
        return new(http, apiKey, version);
    }

    public async ValueTask DisposeAsync()
    {
        await _factory.DisposeAsync();
        DeleteDirectory();
    }

    private void DeleteDirectory()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
