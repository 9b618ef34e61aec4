namespace Cpm.Api.Auth;

/// <summary>The <c>Auth</c> section: plain api keys, each named <c>apikey-N</c> in logs and history.</summary>
internal sealed class AuthOptions
{
    public const string Section = "Auth";

    public List<string> ApiKeys { get; init; } = [];
}
