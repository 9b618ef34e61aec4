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

    public static ProductTeam ReadTeam(JsonDict line) => new(
        Text(line, "id"),
        Text(line, "name"),
        Text(line, "ods_code"),
        Text(line, "status"),
        PythonTime.Parse(Text(line, "created_on")),
        Time(line, "updated_on"),
        Time(line, "deleted_on"),
        ((List<object?>)line["keys"]!).Cast<JsonDict>().Select(key => new ProductTeamKey(Text(key, "key_type"), Text(key, "key_value"))).ToList(),
        (long)(System.Numerics.BigInteger)line["version"]!);

    public static Product ReadProduct(JsonDict line) => new(
        Text(line, "id"),
        Text(line, "cpm_product_team_id"),
        line["product_team_id"] as string,
        Text(line, "name"),
        Text(line, "ods_code"),
        Text(line, "status"),
        PythonTime.Parse(Text(line, "created_on")),
        Time(line, "updated_on"),
        Time(line, "deleted_on"),
        (long)(System.Numerics.BigInteger)line["version"]!);

    public static ChangeEvent ReadEvent(JsonDict line) => new(
        Text(line, "event_id"),
        Text(line, "entity_type"),
        Text(line, "entity_id"),
        Text(line, "type"),
        PythonTime.Parse(Text(line, "occurred_on")),
        (long)(System.Numerics.BigInteger)line["version"]!,
        line["request_id"] as string,
        line["correlation_id"] as string,
        Text(line, "actor"),
        ((List<object?>)line["changes"]!).Cast<JsonDict>().Select(change => new FieldChange(Text(change, "field"), change["old"] as string, change["new"] as string)).ToList());

    private static string WithKind(string kind, string entityJson, long? version)
    {
        var head = $"{{\"kind\": \"{kind}\", ";
        var body = entityJson[1..^1];
        return version is { } v ? $"{head}{body}, \"version\": {v}}}" : $"{head}{body}}}";
    }

    private static string Text(JsonDict line, string field) =>
        line.TryGetValue(field, out var value) && value is string text ? text : throw new FormatException($"'{field}' must be a string");

    private static DateTimeOffset? Time(JsonDict line, string field) => line[field] is string text ? PythonTime.Parse(text) : null;
}
