namespace Cpm.Api.Auth;

/// <summary>
/// The <c>Auth:Oidc</c> section: OpenID Connect sign-in for people. Present means on; the
/// claim names say which of the person's claims give the actor, the scopes and the organisations.
/// </summary>
internal sealed class OidcOptions
{
    public const string Section = "Auth:Oidc";

    /// <summary>The provider's issuer URL; its discovery document is read from there.</summary>
    public Uri? Authority { get; set; }

    public string ClientId { get; set; } = "";

    /// <summary>For a confidential client; a public client uses PKCE alone. From the environment, never appsettings.</summary>
    public string? ClientSecret { get; set; }

    /// <summary>False only for a local provider on plain http, as the tests use.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>The scopes asked of the provider; <c>openid</c> is required.</summary>
    public List<string> RequestedScopes { get; init; } = [];

    /// <summary>The claim whose value is the person's name: the actor in history.</summary>
    public string NameClaim { get; set; } = "preferred_username";

    /// <summary>The claim whose values (several claims, or one space-separated) are CPM scopes: read, write, admin.</summary>
    public string ScopesClaim { get; set; } = "cpm_scopes";

    /// <summary>The claim whose values limit writes to those organisations, as <c>OdsCodes</c> do for clients; absent means no limit.</summary>
    public string OdsCodesClaim { get; set; } = "cpm_ods_codes";

    /// <summary>How long a session lasts without use; each use within it extends it.</summary>
    public TimeSpan SessionIdleTimeout { get; set; } = TimeSpan.FromHours(8);

    /// <summary>The scopes asked for when <see cref="RequestedScopes"/> is not configured.</summary>
    public IReadOnlyList<string> EffectiveRequestedScopes => RequestedScopes.Count > 0 ? RequestedScopes : ["openid", "profile"];
}
