using System.Collections.Concurrent;
using System.Diagnostics;
using Cpm.Api.Tests.Docs;

namespace Cpm.Api.Tests.Ui;

/// <summary>
/// The UI's service with people's sign-in on (<c>Auth:Oidc</c>), against a real OpenID provider:
/// oidc-provider (tests/Cpm.Api.Tests/Ui/oidc, installed by <c>npm ci</c> there) run by Node on a
/// free 127.0.0.1 port. The provider learns the service's callback once the service listens, and
/// exits when this fixture closes its input, or by itself after 15 minutes.
/// </summary>
public sealed class SignInService : UiService
{
    public const string ClientId = "cpm-ui";
    public const string ClientSecret = "cpm-ui-test-secret";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly ConcurrentQueue<string> _providerLines = new();
    private Process? _provider;
    private Task? _outputReader;

    /// <summary>The provider's issuer URL, without a trailing slash.</summary>
    public string Issuer { get; private set; } = "";

    public override IReadOnlyList<string> OtherOrigins => [Issuer];

    /// <summary>What the provider printed after it was ready: a line per authorization request.</summary>
    public IReadOnlyCollection<string> ProviderLines => _providerLines;

    protected override async Task<IReadOnlyDictionary<string, string?>> BeforeServiceStartsAsync()
    {
        var folder = Path.Combine(ShellBlock.RepositoryRoot, "tests", "Cpm.Api.Tests", "Ui", "oidc");
        if (!Directory.Exists(Path.Combine(folder, "node_modules", "oidc-provider")))
        {
            throw new InvalidOperationException($"oidc-provider is not installed: run `npm ci` in {folder} (.ci/run does).");
        }

        var start = new ProcessStartInfo("node", "provider.mjs")
        {
            WorkingDirectory = folder,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["CPM_TEST_OIDC_CLIENT_ID"] = ClientId;
        start.Environment["CPM_TEST_OIDC_CLIENT_SECRET"] = ClientSecret;
        _provider = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        // Its development-mode warnings are expected; reading them keeps the pipe from filling.
        _provider.ErrorDataReceived += (_, _) => { };
        _provider.BeginErrorReadLine();

        var issuer = await ReadLineAsync("issuer ");
        Issuer = issuer["issuer ".Length..];
        return new Dictionary<string, string?>
        {
            ["Auth:Oidc:Authority"] = Issuer,
            ["Auth:Oidc:ClientId"] = ClientId,
            ["Auth:Oidc:ClientSecret"] = ClientSecret,
            ["Auth:Oidc:RequireHttpsMetadata"] = "false",
            ["Auth:Oidc:RequestedScopes:0"] = "openid",
            ["Auth:Oidc:RequestedScopes:1"] = "profile",
            ["Auth:Oidc:RequestedScopes:2"] = "cpm",
            ["Auth:Oidc:NameClaim"] = "preferred_username",
            ["Auth:Oidc:ScopesClaim"] = "cpm_scopes",
            ["Auth:Oidc:OdsCodesClaim"] = "cpm_ods_codes",
        };
    }

    protected override async Task AfterServiceStartedAsync()
    {
        await _provider!.StandardInput.WriteLineAsync(new Uri(BaseUrl, "signin-oidc").ToString());
        await _provider.StandardInput.FlushAsync();
        await ReadLineAsync("ready");
        _outputReader = Task.Run(async () =>
        {
            while (await _provider.StandardOutput.ReadLineAsync() is { } line)
            {
                _providerLines.Enqueue(line);
            }
        });
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_provider is null)
        {
            return;
        }

        _provider.StandardInput.Close();
        if (!_provider.WaitForExit(5_000))
        {
            _provider.Kill(entireProcessTree: true);
        }

        if (_outputReader is not null)
        {
            await _outputReader;
        }

        _provider.Dispose();
    }

    private async Task<string> ReadLineAsync(string prefix)
    {
        using var timeout = new CancellationTokenSource(StartTimeout);
        while (await _provider!.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                return line;
            }
        }

        throw new InvalidOperationException($"The OpenID provider stopped before printing '{prefix}' (exit code {(_provider.HasExited ? _provider.ExitCode : -1)}).");
    }
}
