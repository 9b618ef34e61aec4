using Cpm.Api.Products;
using Cpm.Api.ProductTeams;
using Cpm.Api.Storage;
using Cpm.Api.Wire;

namespace Cpm.Api.Export;

/// <summary>One NDJSON line per entity or event: <c>kind</c>, then the fields GET or the feed shows, then <c>version</c> for entities.</summary>
internal static class ExportFormat
{
    public const string TeamKind = "product_team";
    public const string ProductKind = "product";
    public const string EventKind = "event";

    public static string Line(ProductTeam team) => WithKind(TeamKind, team.WriteTo(new PythonJsonWriter()).ToString(), team.Version);

    public static string Line(Product product) => WithKind(ProductKind, product.WriteTo(new PythonJsonWriter()).ToString(), product.Version);

    public static string Line(ChangeEvent change) => WithKind(EventKind, change.WriteTo(new PythonJsonWriter()).ToString(), null);

    private static string WithKind(string kind, string entityJson, long? version)
    {
        var head = $"{{\"kind\": \"{kind}\", ";
        var body = entityJson[1..^1];
        return version is { } v ? $"{head}{body}, \"version\": {v}}}" : $"{head}{body}}}";
    }
}
