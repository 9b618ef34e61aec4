using Cpm.Api.Tests.Infrastructure;

namespace Cpm.Api.Tests.Reliability;

/// <summary>
/// Configuration the service must refuse: the real process, in Production, exits by itself with
/// a non-zero status and a message naming what is wrong, before it ever listens.
/// </summary>
public sealed class StartupTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    // SHA-256 of "key": a well-formed hash, so each case below has exactly one thing wrong.
    private const string GoodHash = "2c70e12b7a0646f92279f427c7b38e7334d8e5389cff167a1dc30e73f826b683";

    [Theory]
    [InlineData("No api keys are configured: set Auth:ApiKeys:0")]
    [InlineData("Storage:Provider 'Postgres' is not supported; use 'Sqlite' or 'DynamoDb'.", "--Auth:ApiKeys:0=k", "--Storage:Provider=Postgres")]
    [InlineData("Each Auth:Clients entry needs a Name and a KeyHash of 64 hex digits (the SHA-256 of its key).",
        "--Auth:Clients:0:Name=short", "--Auth:Clients:0:KeyHash=2c70e12b7a0646f92279f427c7b38e7334d8e5389cff167a1dc30e73f826b68", "--Auth:Clients:0:Scopes:0=read")]
    [InlineData("Each Auth:Clients entry needs a Name and a KeyHash of 64 hex digits (the SHA-256 of its key).",
        "--Auth:Clients:0:Name=not-hex", "--Auth:Clients:0:KeyHash=zc70e12b7a0646f92279f427c7b38e7334d8e5389cff167a1dc30e73f826b683", "--Auth:Clients:0:Scopes:0=read")]
    [InlineData("Auth:Clients scopes are read, write and admin.",
        "--Auth:Clients:0:Name=root", $"--Auth:Clients:0:KeyHash={GoodHash}", "--Auth:Clients:0:Scopes:0=superuser")]
    public async Task TheServiceRefusesToStartAndSaysWhy(string message, params string[] settings)
    {
        var directory = Directory.CreateTempSubdirectory("cpm-startup-");
        try
        {
            var (exitCode, output) = await ServiceProcess.RunToExitAsync(
                ["--urls", "http://127.0.0.1:0", $"--Storage:Sqlite:Path={Path.Combine(directory.FullName, "cpm.db")}", .. settings], Bound);

            Assert.True(exitCode is not null and not 0, $"expected a non-zero exit within {Bound.TotalSeconds} s, got {exitCode?.ToString() ?? "a running service"}:\n{output}");
            Assert.Contains(message, output, StringComparison.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
