using System.Security.Claims;
using Cpm.Api.Http;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Cpm.Api.Auth;

/// <summary>
/// A person's session: the cookie set after OpenID Connect sign-in. A call carrying it is a
/// <see cref="Caller"/> only with a valid anti-forgery header too, which a page on another
/// origin cannot read or forge, so the cookie alone never authorises anything.
/// </summary>
internal sealed class PersonSessions(IAntiforgery antiforgery, IOptions<OidcOptions> options, IOptions<AuthOptions> clients)
{
    public const string CookieScheme = "CpmSession";
    public const string OidcScheme = "Oidc";
    public const string AntiforgeryHeader = "X-CSRF-Token";
    public const string AntiforgeryRefused = "Missing or invalid anti-forgery header";

    private readonly OidcOptions _options = options.Value;

    // A caller's name keys its remembered answers and names the actor: a person may not share one with a system.
    private readonly HashSet<string> _clientNames = new(
        clients.Value.ApiKeys.Select((_, index) => Caller.PlainKeyName(index)).Concat(clients.Value.Clients.Select(client => client.Name)),
        StringComparer.OrdinalIgnoreCase);

    /// <summary>The signed-in person, or null when the request carries no valid session cookie.</summary>
    public async Task<ClaimsPrincipal?> AuthenticateAsync(HttpContext context)
    {
        var result = await context.AuthenticateAsync(CookieScheme);
        if (result.Principal is not { } person || Name(person) is null)
        {
            return null;
        }

        // Anti-forgery tokens are bound to the user they were issued to.
        context.User = person;
        return person;
    }

    /// <summary>Null when the call carries no session; otherwise the caller, or the 403 when its anti-forgery header is not valid.</summary>
    public async Task<(Caller? Caller, IResult? Refusal)> IdentifyAsync(HttpContext context)
    {
        if (await AuthenticateAsync(context) is not { } person)
        {
            return (null, null);
        }

        if (!await IsAntiforgeryValidAsync(context))
        {
            return (null, ApiResults.Error(ErrorCodes.AccessDenied, AntiforgeryRefused));
        }

        var caller = ToCaller(person);
        return _clientNames.Contains(caller.Name)
            ? (null, ApiResults.Error(ErrorCodes.AccessDenied, $"Signed-in name '{caller.Name}' is the name of an api client; it cannot be used by a person"))
            : (caller, null);
    }

    /// <summary>Checks the header whatever the method: reads count too, so another origin learns nothing.</summary>
    public async Task<bool> IsAntiforgeryValidAsync(HttpContext context)
    {
        try
        {
            await antiforgery.ValidateRequestAsync(context);
            return true;
        }
        catch (AntiforgeryValidationException)
        {
            return false;
        }
    }

    public string GetAntiforgeryToken(HttpContext context) => antiforgery.GetAndStoreTokens(context).RequestToken!;

    public Caller ToCaller(ClaimsPrincipal person)
    {
        var scopes = Values(person, _options.ScopesClaim)
            .Where(scope => scope is Caller.ReadScope or Caller.WriteScope or Caller.AdminScope)
            .ToHashSet(StringComparer.Ordinal);
        var odsCodes = Values(person, _options.OdsCodesClaim).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return new Caller(Name(person)!, scopes, odsCodes.Count > 0 ? odsCodes : null);
    }

    private string? Name(ClaimsPrincipal person) => person.FindFirst(_options.NameClaim)?.Value is { Length: > 0 } name ? name : null;

    private static IEnumerable<string> Values(ClaimsPrincipal person, string claim) =>
        person.FindAll(claim).SelectMany(value => value.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
