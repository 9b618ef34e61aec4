using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Cpm.Api.Products;

internal sealed class ProductIdOptions
{
    public const string Section = "ProductIds";

    /// <summary>Optional JSON array of ids never to issue.</summary>
    public string? ReservedFile { get; set; }
}

/// <summary>
/// Product ids: <c>P.XXX-XXX</c> from an alphabet without look-alike characters, drawn from a
/// cryptographic source. Uniqueness across the register is the store's job; this only draws.
/// </summary>
internal sealed class ProductIdGenerator
{
    public const string Alphabet = "ACDEFGHJKLMNPRTUVWXY34679";

    private readonly HashSet<string> _reserved;

    public ProductIdGenerator(IOptions<ProductIdOptions> options)
    {
        var file = options.Value.ReservedFile;
        _reserved = string.IsNullOrWhiteSpace(file)
            ? []
            : new HashSet<string>(System.Text.Json.JsonSerializer.Deserialize<string[]>(File.ReadAllText(file)) ?? [], StringComparer.Ordinal);
    }

    public int ReservedCount => _reserved.Count;

    public string Next()
    {
        while (true)
        {
            var id = string.Create(9, 0, static (chars, _) =>
            {
                chars[0] = 'P';
                chars[1] = '.';
                chars[5] = '-';
                foreach (var i in (ReadOnlySpan<int>)[2, 3, 4, 6, 7, 8])
                {
                    chars[i] = Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
                }
            });
            if (!_reserved.Contains(id))
            {
                return id;
            }
        }
    }

    public static bool IsWellFormed(string id) =>
        id.Length == 9 && id.StartsWith("P.", StringComparison.Ordinal) && id[5] == '-'
        && id.Where((c, i) => i is not (0 or 1 or 5)).All(Alphabet.Contains);
}

internal static class ProductIdServiceCollectionExtensions
{
    public static IServiceCollection AddProductIds(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ProductIdOptions>()
            .Bind(configuration.GetSection(ProductIdOptions.Section))
            .Validate(options => string.IsNullOrWhiteSpace(options.ReservedFile) || File.Exists(options.ReservedFile),
                "ProductIds:ReservedFile names a file that does not exist.")
            .ValidateOnStart();
        services.AddSingleton<ProductIdGenerator>();
        return services;
    }
}
