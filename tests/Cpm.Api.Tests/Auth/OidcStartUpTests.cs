using System.Net;
using Cpm.Api.Tests.Infrastructure;

namespace Cpm.Api.Tests.Auth;

/// <summary>
/// <c>Auth:Oidc</c> is checked at start-up, and without it nothing about sign-in exists: the UI
/// finds no <c>/session</c> and asks for an api key as before. The sign-in itself is in
/// <see cref="Ui.SignInTests"/>, against a real provider.
/// </summary>
public sealed class OidcStartUpTests
{
    // Start-up fails before ODS is ever called.
    private const string NoOds = "http://127.0.0.1:9";

    [Theory]
    [InlineData("http://127.0.0.1:9/issuer", "cpm-ui", null, "Auth:Oidc:Authority is plain http: use https, or set Auth:Oidc:RequireHttpsMetadata=false")]
    [InlineData("issuer", "cpm-ui", "false", "Auth:Oidc:Authority must be the provider's absolute http(s) issuer URL.")]
    [InlineData("https://login.example/issuer", "", null, "Auth:Oidc:ClientId is required.")]
    public async Task StartUpRefusesAnIncompleteOrInsecureOidcConfiguration(string authority, string clientId, string? requireHttpsMetadata, string message)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Auth:Oidc:Authority"] = authority,
            ["Auth:Oidc:ClientId"] = clientId,
        };
        if (requireHttpsMetadata is not null)
        {
            settings["Auth:Oidc:RequireHttpsMetadata"] = requireHttpsMetadata;
        }

        var failure = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var refused = IsolatedService.Start(NoOds, settings);
        });

        Assert.Contains(message, failure.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutOidcThereIsNoSignInAndCallsWithoutAKeyAreRefusedAsBefore()
    {
        await using var service = IsolatedService.Start(NoOds);
        var anonymous = service.Client(apiKey: null);
        (await anonymous.GetAsync("/session")).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", "No resource at /session");
        (await anonymous.GetAsync("/signin")).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", "No resource at /signin");
        (await anonymous.GetAsync("/ProductTeam/anything")).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED", "Missing apikey header");
    }
}
