using Microsoft.AspNetCore.DataProtection;

namespace Cpm.Api.Webhooks;

/// <summary>
/// Subscription secrets as the store keeps them: encrypted and authenticated with ASP.NET Core Data
/// Protection under a purpose of their own, with the key ring every node reads from the store.
/// </summary>
internal sealed class WebhookSecrets(IDataProtectionProvider provider)
{
    private readonly IDataProtector _protector = provider.CreateProtector("Cpm.Webhooks.Secret.v1");

    public string Protect(string secret) => _protector.Protect(secret);

    public string Unprotect(string protectedSecret) => _protector.Unprotect(protectedSecret);
}
