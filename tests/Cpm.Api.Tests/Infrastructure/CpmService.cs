using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Cpm.Api.Tests.Infrastructure;

/// <summary>
/// One running service per test class, on Kestrel on loopback with a real store, talking to a
/// fake ORD server on loopback.
/// Subclasses choose the storage adapter; every API test class runs against each of them.
/// </summary>
public abstract class CpmService : IAsyncLifetime, IAsyncDisposable
{
    public const string ApiKey = "test-key-0";
    public const string SecondApiKey = "test-key-1";
    public const string ReaderKey = "reader-key";
    public const string LimitedWriterKey = "limited-writer-key";
    public const string AdminKey = "admin-key";

    /// <summary>The only organisation the limited writer may write to.</summary>
    public const string LimitedWriterOrganisation = "LIMITED1";

    private WebApplicationFactory<Program>? _factory;
    private HttpClient? _http;

    public FakeOrd Ord { get; private set; } = null!;

    /// <summary>Set by fixtures that pin time; null means the system clock.</summary>
    public FakeTimeProvider? Clock { get; protected init; }

    public IServiceProvider Services => _factory!.Services;

    /// <summary>Settings a test adds before <see cref="InitializeAsync"/> (webhook subscriptions, say).</summary>
    public Dictionary<string, string?> ExtraSettings { get; } = [];

    /// <summary>Service overrides a test adds before <see cref="InitializeAsync"/> (a log sink, a wrapped store).</summary>
    public Action<IServiceCollection>? ExtraServices { get; set; }

    private Dictionary<string, string?> _settings = [];

    public virtual async Task InitializeAsync()
    {
        Ord = await FakeOrd.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["Auth:ApiKeys:0"] = ApiKey,
            ["Auth:ApiKeys:1"] = SecondApiKey,
            ["Ods:BaseUrl"] = Ord.BaseUrl,
            ["Auth:Clients:0:Name"] = "reporting",
            ["Auth:Clients:0:KeyHash"] = Sha256Hex(ReaderKey),
            ["Auth:Clients:0:Scopes:0"] = "read",
            ["Auth:Clients:1:Name"] = "limited-writer",
            ["Auth:Clients:1:KeyHash"] = Sha256Hex(LimitedWriterKey).ToLowerInvariant(),
            ["Auth:Clients:1:Scopes:0"] = "read",
            ["Auth:Clients:1:Scopes:1"] = "write",
            ["Auth:Clients:1:OdsCodes:0"] = LimitedWriterOrganisation.ToLowerInvariant(),
            ["Auth:Clients:2:Name"] = "operator",
            ["Auth:Clients:2:KeyHash"] = Sha256Hex(AdminKey),
            ["Auth:Clients:2:Scopes:0"] = "admin",
            ["Auth:Clients:2:Scopes:1"] = "read",
        };
        await ConfigureStorageAsync(settings);
        foreach (var (key, value) in ExtraSettings)
        {
            settings[key] = value;
        }

        _settings = settings;
        StartService();
    }

    /// <summary>Stops the service and starts it again on the same store, as a redeploy would.</summary>
    public async Task RestartAsync()
    {
        _http?.Dispose();
        await _factory!.DisposeAsync();
        StartService();
    }

    private void StartService()
    {
        _factory = TestHost.Create(_settings, services =>
        {
            if (Clock is not null)
            {
                services.AddSingleton<TimeProvider>(Clock);
            }

            ExtraServices?.Invoke(services);
        });
        BaseAddress = TestHost.StartOnLoopback(_factory);
        _http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public Uri BaseAddress { get; private set; } = null!;

    public CpmClient Client(string? apiKey = ApiKey, string? version = "1") => new(_http!, apiKey, version);

    public virtual async Task DisposeAsync()
    {
        _http?.Dispose();
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }

        await Ord.DisposeAsync();
    }

    async ValueTask IAsyncDisposable.DisposeAsync()
    {
        await DisposeAsync();
        GC.SuppressFinalize(this);
    }

    protected abstract Task ConfigureStorageAsync(IDictionary<string, string?> settings);

    /// <summary>Another service on this one's store, not started yet: a second node of a fleet.</summary>
    public abstract CpmService OnSameStore();

    private static string Sha256Hex(string key) =>
        Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));
}

public class SqliteService : CpmService
{
    private readonly string? _ownedDirectory;

    /// <summary>A fresh database in a temporary folder removed at the end.</summary>
    public SqliteService()
    {
        _ownedDirectory = Directory.CreateTempSubdirectory("cpm-tests-").FullName;
        DatabasePath = Path.Combine(_ownedDirectory, "cpm.db");
    }

    private SqliteService(string databasePath) => DatabasePath = databasePath;

    public string DatabasePath { get; }

    /// <summary>A service on an existing database file, left in place at the end (for restarts).</summary>
    public static SqliteService OnFile(string databasePath) => new(databasePath);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_ownedDirectory is not null)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(_ownedDirectory, recursive: true);
        }
    }

    public override CpmService OnSameStore() => OnFile(DatabasePath);

    protected override Task ConfigureStorageAsync(IDictionary<string, string?> settings)
    {
        settings["Storage:Provider"] = "Sqlite";
        settings["Storage:Sqlite:Path"] = DatabasePath;
        return Task.CompletedTask;
    }
}

/// <summary>SQLite with the clock pinned, for exact timestamps.</summary>
public sealed class SqlitePinnedClockService : SqliteService
{
    public SqlitePinnedClockService() => Clock = new FakeTimeProvider(new DateTimeOffset(2025, 1, 30, 14, 30, 18, TimeSpan.Zero).AddTicks(1_916_437));
}
