using System.Security.Cryptography;
using System.Text;
using Cpm.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Playwright;

namespace Cpm.Api.Tests.Ui;

/// <summary>
/// The service on a real Kestrel port on 127.0.0.1 (a browser cannot reach the in-memory test
/// server), on a temp SQLite file, with the fake ORD; and one headless Debian Chromium for the
/// test class, driven by Playwright's bundled driver (it never downloads a browser). A subclass
/// adds settings and outside services through the two hooks (<see cref="SignInService"/>).
/// </summary>
public class UiService : IAsyncLifetime
{
    public const string ApiKey = "ui-test-key";

    /// <summary>A named client's key with the admin scope, for the administrators' pages.</summary>
    public const string AdminKey = "ui-test-admin-key";

    /// <summary>Debian's package (apt-get install chromium); CPM_CHROMIUM points elsewhere.</summary>
    public static readonly string ChromiumPath = Environment.GetEnvironmentVariable("CPM_CHROMIUM") ?? "/usr/bin/chromium";

    private readonly string _directory = Directory.CreateTempSubdirectory("cpm-ui-tests-").FullName;
    private WebApplicationFactory<Program>? _factory;
    private IPlaywright? _playwright;
    private HttpClient? _http;

    public FakeOrd Ord { get; private set; } = null!;

    /// <summary>The service's root, ending in a slash; the UI is at <c>ui/</c> below it.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Screenshots of every page the tests check, kept as test artifacts.</summary>
    public static string ScreenshotDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "ui-screenshots");

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"No Chromium at {ChromiumPath}: install Debian's package (apt-get install -y chromium) or set CPM_CHROMIUM.");
        }

        Ord = await FakeOrd.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["Auth:ApiKeys:0"] = ApiKey,
            ["Ods:BaseUrl"] = Ord.BaseUrl,
            ["Storage:Provider"] = "Sqlite",
            ["Storage:Sqlite:Path"] = Path.Combine(_directory, "cpm.db"),
            ["Auth:Clients:0:Name"] = "ui-admin",
            ["Auth:Clients:0:KeyHash"] = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(AdminKey))),
            ["Auth:Clients:0:Scopes:0"] = "read",
            ["Auth:Clients:0:Scopes:1"] = "write",
            ["Auth:Clients:0:Scopes:2"] = "admin",
            // A new subscription is taken up, and its delivery state saved, within a second.
            ["Webhooks:LeasePollInterval"] = "00:00:00.200",
            ["Webhooks:LeaseRenewal"] = "00:00:01",
            // Every page load is a dozen static requests; their log lines would only bury failures.
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in await BeforeServiceStartsAsync())
        {
            settings[key] = value;
        }

        _factory = TestHost.Create(settings);
        BaseUrl = new Uri(TestHost.StartOnLoopback(_factory).ToString().TrimEnd('/') + "/");
        _http = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(30) };
        await AfterServiceStartedAsync();

        Directory.CreateDirectory(ScreenshotDirectory);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Timeout = 30_000,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
            ],
        });
    }

    /// <summary>Origins besides the service's own that pages may load from (a sign-in provider).</summary>
    public virtual IReadOnlyList<string> OtherOrigins => [];

    /// <summary>Settings added to the service's, from outside services started first.</summary>
    protected virtual Task<IReadOnlyDictionary<string, string?>> BeforeServiceStartsAsync() =>
        Task.FromResult<IReadOnlyDictionary<string, string?>>(new Dictionary<string, string?>());

    /// <summary>Runs once the service listens, for outside services that need its address.</summary>
    protected virtual Task AfterServiceStartedAsync() => Task.CompletedTask;

    /// <summary>A client for arranging data through the API itself, with the valid key.</summary>
    public CpmClient Api() => new(_http!, ApiKey, "1");

    public virtual async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        _http?.Dispose();
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }

        if (Ord is not null)
        {
            await Ord.DisposeAsync();
        }

        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
