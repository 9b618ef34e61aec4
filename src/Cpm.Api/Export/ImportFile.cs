using System.Numerics;
using Cpm.Api.Entities;
using Cpm.Api.Products;
using Cpm.Api.ProductTeams;
using Cpm.Api.Storage;
using Cpm.Api.Wire;

namespace Cpm.Api.Export;

/// <summary>
/// An export file, read whole and checked before anything is written. Every bad line is named
/// with its number and reasons; a file with any problem is refused whole.
/// </summary>
internal sealed class ImportFile
{
    private const long MaxVersion = 1L << 53;

    private static readonly string[] Statuses = [EntityStatus.Active, EntityStatus.Inactive];
    private static readonly string[] EntityTypes = [ChangeEvent.TeamEntity, ChangeEvent.ProductEntity];
    private static readonly string[] EventTypes =
    [
        "ProductTeamCreated", "ProductTeamUpdated", "ProductTeamDeleted", "ProductTeamRestored",
        "ProductCreated", "ProductUpdated", "ProductDeleted", "ProductRestored",
    ];

    private readonly Dictionary<string, int> _teamLines = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _liveAliasLines = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _productLines = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _eventLines = new(StringComparer.Ordinal);

    public List<ProductTeam> Teams { get; } = [];

    public List<Product> Products { get; } = [];

    public List<ChangeEvent> Events { get; } = [];

    /// <summary>One entry per bad line, <c>line N: reason; reason</c>, in line order.</summary>
    public List<string> Problems { get; } = [];

    public static async Task<ImportFile> ReadAsync(string path, CancellationToken cancellationToken)
    {
        var file = new ImportFile();
        var lineNumber = 0;
        await foreach (var text in File.ReadLinesAsync(path, cancellationToken))
        {
            lineNumber++;
            if (!string.IsNullOrWhiteSpace(text))
            {
                file.Read(lineNumber, text);
            }
        }

        file.CheckProductsAgainstTheirTeams();
        return file;
    }

    private void Read(int lineNumber, string text)
    {
        var reasons = new List<string>();
        try
        {
            if (PythonJsonParser.Parse(text) is not JsonDict line)
            {
                reasons.Add("not a JSON object");
            }
            else
            {
                ReadEntry(lineNumber, new Fields(line, reasons));
            }
        }
        catch (InvalidJsonException invalid)
        {
            reasons.Add($"invalid JSON: {invalid.Message}");
        }

        if (reasons.Count > 0)
        {
            Problems.Add($"line {lineNumber}: {string.Join("; ", reasons)}");
        }
    }

    private void ReadEntry(int lineNumber, Fields line)
    {
        switch (line.Text("kind"))
        {
            case ExportFormat.TeamKind:
                var team = ReadTeam(line);
                if (line.IsValid && Unique(_teamLines, team.Id, lineNumber, "team id", line))
                {
                    if (team.IsActive && team.Alias is { } alias)
                    {
                        Unique(_liveAliasLines, alias, lineNumber, "live team alias", line);
                    }

                    Teams.Add(team);
                }

                break;
            case ExportFormat.ProductKind:
                var product = ReadProduct(line);
                if (line.IsValid && Unique(_productLines, product.Id, lineNumber, "product id", line))
                {
                    Products.Add(product);
                }

                break;
            case ExportFormat.EventKind:
                var change = ReadEvent(line);
                if (line.IsValid && Unique(_eventLines, change.EventId, lineNumber, "event id", line))
                {
                    Events.Add(change);
                }

                break;
            case var kind when line.IsValid:
                line.Problem($"unknown kind '{kind}'");
                break;
        }
    }

    /// <summary>True for the first line with this key; later ones are problems, kept out of the lists.</summary>
    private static bool Unique(Dictionary<string, int> seen, string key, int lineNumber, string what, Fields line)
    {
        if (seen.TryAdd(key, lineNumber))
        {
            return true;
        }

        line.Problem($"duplicate {what} '{key}' (first on line {seen[key]})");
        return false;
    }

    private static ProductTeam ReadTeam(Fields line) => new(
        line.Matching("id", IsUuid, "a UUID"),
        line.Text("name"),
        line.Text("ods_code"),
        line.OneOf("status", Statuses),
        line.Time("created_on"),
        line.NullableTime("updated_on"),
        line.NullableTime("deleted_on"),
        line.Keys(),
        line.Version());

    private static Product ReadProduct(Fields line) => new(
        line.Matching("id", ProductIdGenerator.IsProductId, "a product id such as P.7GX-ANH"),
        line.Matching("cpm_product_team_id", IsUuid, "a UUID"),
        line.NullableText("product_team_id"),
        line.Text("name"),
        line.Text("ods_code"),
        line.OneOf("status", Statuses),
        line.Time("created_on"),
        line.NullableTime("updated_on"),
        line.NullableTime("deleted_on"),
        line.Version());

    private static ChangeEvent ReadEvent(Fields line) => new(
        line.Matching("event_id", IsUuid, "a UUID"),
        line.OneOf("entity_type", EntityTypes),
        line.Text("entity_id"),
        line.OneOf("type", EventTypes),
        line.Time("occurred_on"),
        line.Version(),
        line.NullableText("request_id"),
        line.NullableText("correlation_id"),
        line.Text("actor"),
        line.Changes());

    /// <summary>
    /// What the API guarantees and the stores rely on: every product's team is in the file, has the
    /// product's organisation (search groups products under it), and is live if the product is.
    /// </summary>
    private void CheckProductsAgainstTheirTeams()
    {
        var teams = Teams.ToDictionary(team => team.Id, StringComparer.Ordinal);
        foreach (var product in Products)
        {
            var where = $"line {_productLines[product.Id]}: product {product.Id}";
            if (!teams.TryGetValue(product.TeamId, out var team))
            {
                Problems.Add($"{where} belongs to team {product.TeamId}, which is not in the file");
            }
            else if (team.OdsCode != product.OdsCode)
            {
                Problems.Add($"{where} has ods_code '{product.OdsCode}' but its team {product.TeamId} has '{team.OdsCode}'");
            }
            else if (product.IsActive && !team.IsActive)
            {
                Problems.Add($"{where} is active but its team {product.TeamId} is deleted");
            }
        }
    }

    /// <summary>Ids the service issues: lowercase or not, with hyphens, as <c>Guid.ToString()</c> writes them.</summary>
    private static bool IsUuid(string text) => text.Length == 36 && Guid.TryParseExact(text, "D", out _);

    /// <summary>One line's fields, read as their types; what is wrong is noted, never thrown.</summary>
    private sealed class Fields(JsonDict line, List<string> reasons)
    {
        public bool IsValid => reasons.Count == 0;

        public void Problem(string reason) => reasons.Add(reason);

        public string Text(string field) => Text(line, field);

        public string? NullableText(string field) => NullableText(line, field);

        public string Matching(string field, Func<string, bool> valid, string format)
        {
            var text = Text(field);
            if (line.TryGetValue(field, out var value) && value is string && !valid(text))
            {
                Problem($"'{field}' is not {format}");
            }

            return text;
        }

        public string OneOf(string field, string[] allowed)
        {
            var text = Text(field);
            if (line.TryGetValue(field, out var value) && value is string && !allowed.Contains(text, StringComparer.Ordinal))
            {
                Problem($"unknown {field} '{text}'");
            }

            return text;
        }

        public DateTimeOffset Time(string field) => NullableTime(field, nullable: false) ?? default;

        public DateTimeOffset? NullableTime(string field) => NullableTime(field, nullable: true);

        public long Version()
        {
            if (!line.TryGetValue("version", out var value))
            {
                Problem("'version' is missing");
            }
            else if (value is not BigInteger version || version < 1 || version > MaxVersion)
            {
                Problem($"'version' must be an integer from 1 to {MaxVersion}");
            }
            else
            {
                return (long)version;
            }

            return 0;
        }

        public List<ProductTeamKey> Keys()
        {
            var keys = new List<ProductTeamKey>();
            foreach (var (key, index) in Items("keys"))
            {
                var keyType = Text(key, "key_type", $"keys.{index}.key_type");
                var keyValue = Text(key, "key_value", $"keys.{index}.key_value");
                if (keyType != ProductTeamKey.ProductTeamIdType || !IsUuid(keyValue))
                {
                    Problem($"'keys.{index}' is not a product_team_id key with a UUID value");
                }

                keys.Add(new ProductTeamKey(keyType, keyValue));
            }

            return keys;
        }

        public List<FieldChange> Changes() =>
        [
            .. Items("changes").Select(item => new FieldChange(
                Text(item.Value, "field", $"changes.{item.Index}.field"),
                NullableText(item.Value, "old", $"changes.{item.Index}.old"),
                NullableText(item.Value, "new", $"changes.{item.Index}.new"))),
        ];

        private DateTimeOffset? NullableTime(string field, bool nullable)
        {
            var text = nullable ? NullableText(field) : Text(field);
            if (string.IsNullOrEmpty(text))
            {
                return null;
            }

            try
            {
                return PythonTime.Parse(text);
            }
            catch (Exception failure) when (failure is FormatException or ArgumentException)
            {
                Problem($"'{field}' is not a timestamp");
                return null;
            }
        }

        private List<(JsonDict Value, int Index)> Items(string field)
        {
            if (!line.TryGetValue(field, out var value))
            {
                Problem($"'{field}' is missing");
                return [];
            }

            if (value is not List<object?> list)
            {
                Problem($"'{field}' must be a list");
                return [];
            }

            var items = new List<(JsonDict, int)>();
            for (var index = 0; index < list.Count; index++)
            {
                if (list[index] is JsonDict item)
                {
                    items.Add((item, index));
                }
                else
                {
                    Problem($"'{field}.{index}' must be an object");
                }
            }

            return items;
        }

        private string Text(JsonDict fields, string field, string? path = null)
        {
            path ??= field;
            switch (fields.GetValueOrDefault(field, Missing.Value))
            {
                case string text:
                    return text;
                case Missing:
                    Problem($"'{path}' is missing");
                    break;
                case null:
                    Problem($"'{path}' is null");
                    break;
                default:
                    Problem($"'{path}' must be a string");
                    break;
            }

            return "";
        }

        private string? NullableText(JsonDict fields, string field, string? path = null)
        {
            path ??= field;
            switch (fields.GetValueOrDefault(field, Missing.Value))
            {
                case string text:
                    return text;
                case null:
                    return null;
                case Missing:
                    Problem($"'{path}' is missing");
                    break;
                default:
                    Problem($"'{path}' must be a string or null");
                    break;
            }

            return null;
        }

        private sealed class Missing
        {
            public static readonly Missing Value = new();
        }
    }
}
