using System.Xml.Linq;
using Cpm.Api.Storage;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace Cpm.Api.Auth;

/// <summary>
/// The Data Protection key ring kept in the store, so every instance of a fleet, and an instance
/// after a restart, protects and reads sessions and anti-forgery tokens with the same keys.
/// </summary>
internal sealed class StoreXmlRepository(ICpmStore store) : IXmlRepository
{
    // The framework's interface is synchronous; it is called only at start-up and when the key ring refreshes (daily, or on a new key), so blocking is fine.
    public IReadOnlyCollection<XElement> GetAllElements() =>
        [.. store.ReadProtectionKeysAsync(CancellationToken.None).GetAwaiter().GetResult().Select(xml => XElement.Parse(xml))];

    public void StoreElement(XElement element, string friendlyName) =>
        store.AddProtectionKeyAsync(friendlyName, element.ToString(SaveOptions.DisableFormatting), CancellationToken.None).GetAwaiter().GetResult();
}

internal static class StoredKeyRingExtensions
{
    /// <summary>ASP.NET Core Data Protection (application name cpm) with its key ring in the store: sign-in and webhook secrets use it.</summary>
    public static IServiceCollection AddStoredKeyRing(this IServiceCollection services)
    {
        services.AddDataProtection().SetApplicationName("cpm");
        services.AddOptions<KeyManagementOptions>()
            .Configure<ICpmStore>((keys, store) => keys.XmlRepository = new StoreXmlRepository(store));
        return services;
    }
}
