namespace Cpm.Api.Auth;

/// <summary>
/// The <c>Auth</c> section: plain api keys (named <c>apikey-N</c>, scopes read and write) and
/// named clients whose keys are configured only as SHA-256 hashes.
/// </summary>
internal sealed class AuthOptions
{
    public const string Section = "Auth";

    public List<string> ApiKeys { get; init; } = [];

    public List<ClientOptions> Clients { get; init; } = [];
}

internal sealed class ClientOptions
{
    /// <summary>The caller's name: in logs and as the actor in history.</summary>
    public string Name { get; set; } = "";

    /// <summary>SHA-256 of the key, hex in any case; the key itself is never configured.</summary>
    public string KeyHash { get; set; } = "";

    /// <summary><c>read</c>, <c>write</c>, <c>admin</c>: independent of each other.</summary>
    public List<string> Scopes { get; init; } = [];

    /// <summary>When given, writes are limited to teams of these organisations (case-insensitive).</summary>
    public List<string> OdsCodes { get; init; } = [];
}
