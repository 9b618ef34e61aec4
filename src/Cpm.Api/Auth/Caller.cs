using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Cpm.Api.Auth;

/// <summary>Who is calling: the name recorded as the actor, and what the caller may do.</summary>
internal sealed record Caller(string Name, IReadOnlySet<string> Scopes, IReadOnlySet<string>? OdsCodes)
{
    public const string ReadScope = "read";
    public const string WriteScope = "write";
    public const string AdminScope = "admin";

    private static readonly object ItemKey = new();

    /// <summary>The name of the plain key at <paramref name="index"/> of <c>Auth:ApiKeys</c>.</summary>
    public static string PlainKeyName(int index) => $"apikey-{index}";

    public static Caller? Find(HttpContext context) => context.Items.TryGetValue(ItemKey, out var caller) ? caller as Caller : null;

    public static Caller Current(HttpContext context) =>
        Find(context) ?? throw new InvalidOperationException("The api key filter has not run for this endpoint.");

    public void AttachTo(HttpContext context) => context.Items[ItemKey] = this;

    public bool MayWriteTo(string odsCode) => OdsCodes is null || OdsCodes.Contains(odsCode);
}

/// <summary>
/// The configured callers, held only as SHA-256 hashes of their keys. A presented key is hashed
/// and compared with every known hash in constant time, so neither its content nor its length
/// leaks through timing.
/// </summary>
internal sealed class CallerDirectory
{
    private readonly (byte[] Hash, Caller Caller)[] _callers;

    public CallerDirectory(IOptions<AuthOptions> options)
    {
        var plainKeyScopes = new HashSet<string>([Caller.ReadScope, Caller.WriteScope], StringComparer.Ordinal);
        _callers =
        [
            .. options.Value.ApiKeys.Select((key, index) => (Hash(key), new Caller(Caller.PlainKeyName(index), plainKeyScopes, null))),
            .. options.Value.Clients.Select(client => (
                Convert.FromHexString(client.KeyHash),
                new Caller(
                    client.Name,
                    new HashSet<string>(client.Scopes, StringComparer.Ordinal),
                    client.OdsCodes.Count > 0 ? new HashSet<string>(client.OdsCodes, StringComparer.OrdinalIgnoreCase) : null))),
        ];
    }

    public Caller? Identify(string presentedKey)
    {
        var presented = Hash(presentedKey);
        Caller? found = null;
        foreach (var (hash, caller) in _callers)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, presented))
            {
                found ??= caller;
            }
        }

        return found;
    }

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
