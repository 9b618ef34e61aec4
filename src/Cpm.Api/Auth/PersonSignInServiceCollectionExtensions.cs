using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;

namespace Cpm.Api.Auth;

internal static class PersonSignInServiceCollectionExtensions
{
    /// <summary>
    /// When <c>Auth:Oidc</c> is configured: OpenID Connect sign-in (authorization code with
    /// PKCE S256) into a session cookie, and anti-forgery tokens for the calls made with it.
    /// Otherwise nothing is registered and every call needs an api key, as before.
    /// </summary>
    public static IServiceCollection AddPersonSignIn(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        if (!IsConfigured(configuration))
        {
            return services;
        }

        services.AddOptions<OidcOptions>()
            .Bind(configuration.GetSection(OidcOptions.Section))
            .Validate(options => options.Authority is { IsAbsoluteUri: true } authority && authority.Scheme is "https" or "http",
                "Auth:Oidc:Authority must be the provider's absolute http(s) issuer URL.")
            .Validate(options => options.Authority is not { IsAbsoluteUri: true, Scheme: "http" } || !options.RequireHttpsMetadata,
                "Auth:Oidc:Authority is plain http: use https, or set Auth:Oidc:RequireHttpsMetadata=false for a local test provider.")
            .Validate(options => !string.IsNullOrWhiteSpace(options.ClientId), "Auth:Oidc:ClientId is required.")
            .Validate(options => options.EffectiveRequestedScopes.Contains("openid"), "Auth:Oidc:RequestedScopes must include openid.")
            .Validate(options => !string.IsNullOrWhiteSpace(options.NameClaim) && !string.IsNullOrWhiteSpace(options.ScopesClaim),
                "Auth:Oidc:NameClaim and Auth:Oidc:ScopesClaim name the claims that give a person's name and scopes; neither may be empty.")
            .Validate(options => options.SessionIdleTimeout > TimeSpan.Zero, "Auth:Oidc:SessionIdleTimeout must be positive.")
            .ValidateOnStart();

        // Sessions and anti-forgery tokens are protected with keys every instance reads from the store.
        services.AddStoredKeyRing();

        // Secure outside Development; Development may run on plain http.
        var secure = environment.IsDevelopment() ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
        services.AddAuthentication(options =>
            {
                // No default authenticate scheme: only calls without an api key look at the cookie (ApiKeyFilter).
                options.DefaultSignInScheme = PersonSessions.CookieScheme;
                options.DefaultChallengeScheme = PersonSessions.OidcScheme;
            })
            .AddCookie(PersonSessions.CookieScheme, options =>
            {
                options.Cookie.Name = "cpm-session";
                options.Cookie.HttpOnly = true;
                options.Cookie.SameSite = SameSiteMode.Strict;
                options.Cookie.SecurePolicy = secure;
                options.SlidingExpiration = true;
            })
            .AddOpenIdConnect(PersonSessions.OidcScheme, _ => { });
        services.AddOptions<CookieAuthenticationOptions>(PersonSessions.CookieScheme)
            .Configure<IOptions<OidcOptions>>((cookie, oidc) => cookie.ExpireTimeSpan = oidc.Value.SessionIdleTimeout);
        services.AddOptions<OpenIdConnectOptions>(PersonSessions.OidcScheme)
            .Configure<IOptions<OidcOptions>>((oidc, person) => ConfigureOpenIdConnect(oidc, person.Value, secure));

        services.AddAntiforgery(options =>
        {
            options.HeaderName = PersonSessions.AntiforgeryHeader;
            options.Cookie.Name = "cpm-antiforgery";
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Strict;
            // Alone it is worthless (it pairs with the session); Always would make the antiforgery
            // service refuse every request that reaches the service over plain http behind a TLS proxy.
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        services.AddSingleton<PersonSessions>();
        return services;
    }

    public static bool IsConfigured(IConfiguration configuration) => configuration.GetSection(OidcOptions.Section).Exists();

    private static void ConfigureOpenIdConnect(OpenIdConnectOptions oidc, OidcOptions person, CookieSecurePolicy secure)
    {
        oidc.Authority = person.Authority?.ToString();
        oidc.ClientId = person.ClientId;
        oidc.ClientSecret = string.IsNullOrEmpty(person.ClientSecret) ? null : person.ClientSecret;
        oidc.RequireHttpsMetadata = person.RequireHttpsMetadata;
        oidc.ResponseType = "code";
        oidc.UsePkce = true;
        // The code comes back in the query of a top-level GET, so the correlation and nonce
        // cookies can be SameSite=Lax: form_post would need SameSite=None.
        oidc.ResponseMode = "query";
        oidc.CorrelationCookie.SameSite = SameSiteMode.Lax;
        oidc.CorrelationCookie.SecurePolicy = secure;
        oidc.NonceCookie.SameSite = SameSiteMode.Lax;
        oidc.NonceCookie.SecurePolicy = secure;
        oidc.Scope.Clear();
        foreach (var scope in person.EffectiveRequestedScopes)
        {
            oidc.Scope.Add(scope);
        }

        // Claims keep the provider's names, so the configured names are the ones looked up.
        oidc.MapInboundClaims = false;
        oidc.GetClaimsFromUserInfoEndpoint = true;
        oidc.ClaimActions.MapUniqueJsonKey(person.NameClaim, person.NameClaim);
        oidc.ClaimActions.MapJsonKey(person.ScopesClaim, person.ScopesClaim);
        oidc.ClaimActions.MapJsonKey(person.OdsCodesClaim, person.OdsCodesClaim);
        oidc.TokenValidationParameters.NameClaimType = person.NameClaim;
        // The session needs only the claims; tokens would make the cookie large for nothing.
        oidc.SaveTokens = false;
        oidc.Events.OnRemoteFailure = context =>
        {
            // A failed or cancelled sign-in lands on the home page, which says so, not on an error page.
            context.Response.Redirect($"{context.Request.PathBase}/ui/?signin=failed");
            context.HandleResponse();
            return Task.CompletedTask;
        };
    }
}
