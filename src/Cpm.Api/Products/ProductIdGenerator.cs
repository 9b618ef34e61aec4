using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Cpm.Api.Products;

internal sealed class ProductIdOptions
{
    public const string Section = "ProductIds";

    /// <summary>Optional JSON array of ids never to issue.</summary>
    public string? ReservedFile { get; set; }

    /// <summary>The reserved ids, or null with the reason when the file cannot be used.</summary>
    public static HashSet<string>? ReadReserved(string? file, out string? problem)
    {
        problem = null;
        if (string.IsNullOrWhiteSpace(file))
        {
            return new HashSet<string>(StringComparer.Ordinal);
        }

        try
        {
            return new HashSet<string>(System.Text.Json.JsonSerializer.Deserialize<string[]>(File.ReadAllText(file)) ?? [], StringComparer.Ordinal);
        }
        catch (Exception failure) when (failure is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            problem = failure.Message;
            return null;
        }
    }
}

/// <summary>Where candidate ids come from; the service draws at random, tests substitute a fixed sequence.</summary>
internal interface IProductIdCandidates
{
    string Draw();
}

/// <summary><c>P.XXX-XXX</c> from an alphabet without look-alike characters, drawn from a cryptographic source.</summary>
internal sealed class RandomProductIdCandidates : IProductIdCandidates
{
    public string Draw() => string.Create(9, 0, static (chars, _) =>
    {
        chars[0] = 'P';
        chars[1] = '.';
        chars[5] = '-';
        foreach (var i in (ReadOnlySpan<int>)[2, 3, 4, 6, 7, 8])
        {
            chars[i] = ProductIdGenerator.Alphabet[RandomNumberGenerator.GetInt32(ProductIdGenerator.Alphabet.Length)];
        }
    });
}

/// <summary>
/// Product ids never on the reserved list. Uniqueness across the register is the store's job;
/// this only draws.
/// </summary>
internal sealed class ProductIdGenerator(IOptions<ProductIdOptions> options, IProductIdCandidates candidates)
{
    public const string Alphabet = "ACDEFGHJKLMNPRTUVWXY34679";

    private static readonly SearchValues<char> AlphabetValues = SearchValues.Create(Alphabet);

    /// <summary><c>P.</c>, three characters of the alphabet, <c>-</c>, three more.</summary>
    public static bool IsProductId(string id) =>
        id.Length == 9 && id.StartsWith("P.", StringComparison.Ordinal) && id[5] == '-'
        && !id.AsSpan(2, 3).ContainsAnyExcept(AlphabetValues) && !id.AsSpan(6, 3).ContainsAnyExcept(AlphabetValues);

    private readonly HashSet<string> _reserved = ProductIdOptions.ReadReserved(options.Value.ReservedFile, out var problem)
        ?? throw new InvalidOperationException($"ProductIds:ReservedFile cannot be read: {problem}");

    public string Next()
    {
        while (true)
        {
            var id = candidates.Draw();
            if (!_reserved.Contains(id))
            {
                return id;
            }
        }
    }
}

internal static class ProductIdServiceCollectionExtensions
{
    public static IServiceCollection AddProductIds(this IServiceCollection services, IConfiguration configuration)
    {
        // The reserved file is read at start-up, so a missing or broken file stops the service
        // instead of failing every product create later.
        services.AddOptions<ProductIdOptions>()
            .Bind(configuration.GetSection(ProductIdOptions.Section))
            .Validate(options => ProductIdOptions.ReadReserved(options.ReservedFile, out _) is not null,
                "ProductIds:ReservedFile must name a readable JSON array of product id strings.")
            .ValidateOnStart();
        services.AddSingleton<IProductIdCandidates, RandomProductIdCandidates>();
        services.AddSingleton<ProductIdGenerator>();
        return services;
    }
}
