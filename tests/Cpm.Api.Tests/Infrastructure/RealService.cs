using Microsoft.Data.Sqlite;

namespace Cpm.Api.Tests.Infrastructure;

/// <summary>One real service process per test class, on a fresh SQLite file, with a fake ORD.</summary>
public sealed class RealService : IAsyncLifetime
{
    public const string ApiKey = "real-key-5d2f9a61c4";

    private readonly string _directory = Directory.CreateTempSubdirectory("cpm-real-").FullName;

    public FakeOrd Ord { get; private set; } = null!;

    public ServiceProcess Process { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Ord = await FakeOrd.StartAsync();
        Process = await ServiceProcess.StartAsync(Path.Combine(_directory, "cpm.db"), Ord.BaseUrl, ApiKey);
    }

    public CpmClient Client(string? apiKey = ApiKey, string? version = "1") => Process.Client(apiKey, version);

    public async Task DisposeAsync()
    {
        await Process.DisposeAsync();
        await Ord.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
