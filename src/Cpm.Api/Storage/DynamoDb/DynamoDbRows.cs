using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Amazon.DynamoDBv2.Model;
using Cpm.Api.Entities;
using Cpm.Api.Products;
using Cpm.Api.ProductTeams;
using Cpm.Api.Wire;
using static Cpm.Api.Storage.DynamoDb.DynamoDbTable;

namespace Cpm.Api.Storage.DynamoDb;

/// <summary>
/// The rows, attribute by attribute. Team, alias and product rows keep the existing service's
/// shape (entity fields as plain attributes, nulls as NULL); everything else is additive.
/// Readers accept rows the existing service wrote: attributes we added may be missing.
/// </summary>
internal static class DynamoDbRows
{
    public const string TeamRowType = "product_team";
    public const string AliasRowType = "product_team_alias";
    public const string ProductRowType = "product";
    public const string ProductIdRowType = "product_id";
    public const string EventRowType = "change_event";
    public const string SequenceRowType = "event_sequence";
    public const string ResponseRowType = "response";
    public const string DeliveryRowType = "delivery_cursor";
    public const string ProtectionKeyRowType = "data_protection_key";

    public const string RowTypeAttribute = "row_type";
    public const string RootAttribute = "root";
    public const string IdAttribute = "id";
    public const string StatusAttribute = "status";
    public const string UpdatedOnAttribute = "updated_on";
    public const string DeletedOnAttribute = "deleted_on";
    public const string VersionAttribute = "version";
    public const string TeamIdAttribute = "cpm_product_team_id";
    public const string NameAttribute = "name";
    public const string CreatedOnAttribute = "created_on";

    /// <summary>On team rows: bumped by every product create or restore, so a team delete notices a live product it did not see.</summary>
    public const string ProductsVersionAttribute = "products_version";

    /// <summary>On the sequence row: the last event number issued.</summary>
    public const string LastSequenceAttribute = "last_seq";

    /// <summary>
    /// On the sequence row, set by <c>migrate</c> and the import: every product has an id row
    /// carrying its copy, and only writers that keep those copies write the table.
    /// </summary>
    public const string TakenOverAttribute = "taken_over";

    /// <summary>On a subscriber's delivery row: the last sequence it acknowledged.</summary>
    public const string DeliveredAttribute = "sequence";

    /// <summary>On a Data Protection key row: the key's XML element, as the framework wrote it.</summary>
    public const string XmlAttribute = "xml";

    /// <summary>On response rows: epoch seconds after which DynamoDB's TTL may remove the row (it is ignored a day after creation anyway).</summary>
    public const string ExpiresAtAttribute = "expires_at";

    public static string TeamKey(string idOrAlias) => TeamPrefix + idOrAlias;

    public static string ProductKey(string productId) => ProductPrefix + productId;

    public static string ProductIdKey(string productId) => ProductIdPrefix + productId;

    /// <summary>
    /// Hashed: request ids are arbitrary header text, which could pass DynamoDB's key size limit
    /// or, joined to the caller's name, be read two ways. The row keeps both as they are.
    /// </summary>
    public static string ResponseKey(string caller, string requestId) =>
        ResponsePrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{caller}\n{requestId}")));

    public static string DeliveryKey(string subscriber) => DeliveryPrefix + subscriber;

    public static string SequenceNumber(long sequence) => sequence.ToString("D20", CultureInfo.InvariantCulture);

    public static Dictionary<string, AttributeValue> Key(string pk, string sk) => new() { [Pk] = S(pk), [Sk] = S(sk) };

    public static Dictionary<string, AttributeValue> TeamRow(ProductTeam team)
    {
        var key = TeamKey(team.Id);
        var row = Keys(key, key, key);
        row[PkRead2] = S(OrganisationPrefix + team.OdsCode);
        row[SkRead2] = S(key);
        row[RootAttribute] = new AttributeValue { BOOL = true };
        row[RowTypeAttribute] = S(TeamRowType);
        AddTeamFields(row, team);
        return row;
    }

    /// <summary>The alias row copies the team's fields under the alias key, outside index 2.</summary>
    public static Dictionary<string, AttributeValue> AliasRow(ProductTeam team, string aliasKey)
    {
        var row = Keys(aliasKey, aliasKey, aliasKey);
        row[RootAttribute] = new AttributeValue { BOOL = false };
        row[RowTypeAttribute] = S(AliasRowType);
        AddTeamFields(row, team);
        return row;
    }

    public static Dictionary<string, AttributeValue> ProductRow(Product product)
    {
        var key = ProductKey(product.Id);
        var row = Keys(TeamKey(product.TeamId), key, key);
        row[PkRead2] = S(OrganisationPrefix + product.OdsCode);
        row[SkRead2] = S(key);
        row[RootAttribute] = new AttributeValue { BOOL = true };
        row[RowTypeAttribute] = S(ProductRowType);
        row[IdAttribute] = S(product.Id);
        row[TeamIdAttribute] = S(product.TeamId);
        row["product_team_id"] = NullableS(product.TeamAlias);
        row[NameAttribute] = S(product.Name);
        row["ods_code"] = S(product.OdsCode);
        row[StatusAttribute] = S(product.Status);
        row[CreatedOnAttribute] = Time(product.CreatedOn);
        row[UpdatedOnAttribute] = Time(product.UpdatedOn);
        row[DeletedOnAttribute] = Time(product.DeletedOn);
        row["keys"] = new AttributeValue { L = [] };
        row[VersionAttribute] = N(product.Version);
        return row;
    }

    /// <summary>
    /// The product id row: keeps the id issued forever, and carries a copy of the product (written
    /// in the same transaction as every change to it), so a read by id is one call.
    /// </summary>
    public static Dictionary<string, AttributeValue> ProductIdRow(Product product)
    {
        var key = ProductIdKey(product.Id);
        return new()
        {
            [Pk] = S(key),
            [Sk] = S(key),
            [RowTypeAttribute] = S(ProductIdRowType),
            [IdAttribute] = S(product.Id),
            [TeamIdAttribute] = S(product.TeamId),
            ["product_team_id"] = NullableS(product.TeamAlias),
            [NameAttribute] = S(product.Name),
            ["ods_code"] = S(product.OdsCode),
            [StatusAttribute] = S(product.Status),
            [CreatedOnAttribute] = Time(product.CreatedOn),
            [UpdatedOnAttribute] = Time(product.UpdatedOn),
            [DeletedOnAttribute] = Time(product.DeletedOn),
            [VersionAttribute] = N(product.Version),
        };
    }

    /// <summary>Id rows written before they carried the product have only its id and team.</summary>
    public static bool CarriesProduct(Dictionary<string, AttributeValue> idRow) => idRow.ContainsKey(VersionAttribute);

    /// <summary>One event, stored twice in its transaction: in the feed and in the entity's history.</summary>
    public static Dictionary<string, AttributeValue> EventRow(string pk, long sequence, ChangeEvent change) => new()
    {
        [Pk] = S(pk),
        [Sk] = S(SequenceNumber(sequence)),
        [RowTypeAttribute] = S(EventRowType),
        ["seq"] = N(sequence),
        ["event_id"] = S(change.EventId),
        ["entity_type"] = S(change.EntityType),
        ["entity_id"] = S(change.EntityId),
        ["type"] = S(change.Type),
        ["occurred_on"] = Time(change.OccurredOn),
        [VersionAttribute] = N(change.Version),
        ["request_id"] = NullableS(change.RequestId),
        ["correlation_id"] = NullableS(change.CorrelationId),
        ["actor"] = S(change.Actor),
        ["changes"] = new AttributeValue
        {
            L = [.. change.Changes.Select(field => new AttributeValue
            {
                M = new() { ["field"] = S(field.Field), ["old"] = NullableS(field.Old), ["new"] = NullableS(field.New) },
            })],
        },
    };

    public static string HistoryKey(ChangeEvent change) => HistoryKey(change.EntityType, change.EntityId);

    public static string HistoryKey(string entityType, string entityId) => $"{HistoryPrefix}{entityType}#{entityId}";

    public static ChangeEvent ReadEvent(Dictionary<string, AttributeValue> row) => new(
        Text(row, "event_id"),
        Text(row, "entity_type"),
        Text(row, "entity_id"),
        Text(row, "type"),
        PythonTime.Parse(Text(row, "occurred_on")),
        Number(row, VersionAttribute),
        TextOrNull(row, "request_id"),
        TextOrNull(row, "correlation_id"),
        Text(row, "actor"),
        [.. (row["changes"].L ?? []).Select(change => new FieldChange(Text(change.M, "field"), TextOrNull(change.M, "old"), TextOrNull(change.M, "new")))]);

    public static SequencedEvent ReadSequencedEvent(Dictionary<string, AttributeValue> row) => new(Number(row, "seq"), ReadEvent(row));

    /// <summary>The answer to an idempotent POST, kept with the write it answered.</summary>
    public static Dictionary<string, AttributeValue> ResponseRow(StoredResponse response)
    {
        var key = ResponseKey(response.Caller, response.RequestId);
        return new()
        {
            [Pk] = S(key),
            [Sk] = S(key),
            [RowTypeAttribute] = S(ResponseRowType),
            ["caller"] = S(response.Caller),
            ["request_id"] = S(response.RequestId),
            ["fingerprint"] = S(response.Fingerprint),
            ["status"] = N(response.Status),
            ["body"] = S(response.Body),
            ["etag"] = NullableS(response.ETag),
            [CreatedOnAttribute] = Time(response.CreatedOn),
            [ExpiresAtAttribute] = N(response.CreatedOn.Add(StoredResponse.ReplayWindow).ToUnixTimeSeconds() + 1),
        };
    }

    public static StoredResponse ReadResponse(Dictionary<string, AttributeValue> row) => new(
        Text(row, "caller"),
        Text(row, "request_id"),
        Text(row, "fingerprint"),
        (int)Number(row, "status"),
        Text(row, "body"),
        TextOrNull(row, "etag"),
        PythonTime.Parse(Text(row, CreatedOnAttribute)));

    public static Dictionary<string, AttributeValue> DeliveryRow(string subscriber, long sequence)
    {
        var key = DeliveryKey(subscriber);
        return new()
        {
            [Pk] = S(key),
            [Sk] = S(key),
            [RowTypeAttribute] = S(DeliveryRowType),
            ["subscriber"] = S(subscriber),
            [DeliveredAttribute] = N(sequence),
        };
    }

    public static Dictionary<string, AttributeValue> ProtectionKeyRow(string name, string xml) => new()
    {
        [Pk] = S(ProtectionKeysKey),
        [Sk] = S(name),
        [RowTypeAttribute] = S(ProtectionKeyRowType),
        [NameAttribute] = S(name),
        [XmlAttribute] = S(xml),
    };

    public static string ReadProtectionKey(Dictionary<string, AttributeValue> row) => Text(row, XmlAttribute);

    /// <summary>The attributes a rename or restore sets on a team or product row (and a team's alias row).</summary>
    public static Dictionary<string, AttributeValue> State<T>(Entity<T> changed)
        where T : Entity<T> => new()
        {
            [NameAttribute] = S(changed.Name),
            [StatusAttribute] = S(changed.Status),
            [UpdatedOnAttribute] = Time(changed.UpdatedOn),
            [DeletedOnAttribute] = Time(changed.DeletedOn),
            [VersionAttribute] = N(changed.Version),
        };

    public static ProductTeam ReadTeam(Dictionary<string, AttributeValue> row) => new(
        Text(row, IdAttribute),
        Text(row, NameAttribute),
        Text(row, "ods_code"),
        Text(row, StatusAttribute),
        PythonTime.Parse(Text(row, CreatedOnAttribute)),
        TimeOrNull(row, UpdatedOnAttribute),
        TimeOrNull(row, DeletedOnAttribute),
        row.TryGetValue("keys", out var keys) && keys.L is { } list
            ? [.. list.Select(key => new ProductTeamKey(key.M["key_type"].S, key.M["key_value"].S))]
            : [],
        VersionOf(row));

    public static Product ReadProduct(Dictionary<string, AttributeValue> row) => new(
        Text(row, IdAttribute),
        Text(row, TeamIdAttribute),
        TextOrNull(row, "product_team_id"),
        Text(row, NameAttribute),
        Text(row, "ods_code"),
        Text(row, StatusAttribute),
        PythonTime.Parse(Text(row, CreatedOnAttribute)),
        TimeOrNull(row, UpdatedOnAttribute),
        TimeOrNull(row, DeletedOnAttribute),
        VersionOf(row));

    public static bool IsActive(Dictionary<string, AttributeValue> row) => TextOrNull(row, StatusAttribute) == EntityStatus.Active;

    public static bool Is(Dictionary<string, AttributeValue> row, string rowType) => TextOrNull(row, RowTypeAttribute) == rowType;

    public static string? TextOrNull(Dictionary<string, AttributeValue> row, string name) =>
        row.TryGetValue(name, out var value) && value.NULL != true ? value.S : null;

    /// <summary>A number attribute, or null when the row (written by the existing service) has none.</summary>
    public static long? NumberOrNull(Dictionary<string, AttributeValue> row, string name) =>
        row.TryGetValue(name, out var value) && value.N is { } number ? long.Parse(number, CultureInfo.InvariantCulture) : null;

    public static AttributeValue S(string value) => new() { S = value };

    public static AttributeValue N(long value) => new() { N = value.ToString(CultureInfo.InvariantCulture) };

    public static AttributeValue NullableS(string? value) => value is null ? new AttributeValue { NULL = true } : S(value);

    public static AttributeValue Time(DateTimeOffset? value) => NullableS(value is { } at ? PythonTime.Format(at) : null);

    private static Dictionary<string, AttributeValue> Keys(string pk, string sk, string read1) => new()
    {
        [Pk] = S(pk),
        [Sk] = S(sk),
        [PkRead1] = S(read1),
        [SkRead1] = S(read1),
    };

    private static void AddTeamFields(Dictionary<string, AttributeValue> row, ProductTeam team)
    {
        row[IdAttribute] = S(team.Id);
        row[NameAttribute] = S(team.Name);
        row["ods_code"] = S(team.OdsCode);
        row[StatusAttribute] = S(team.Status);
        row[CreatedOnAttribute] = Time(team.CreatedOn);
        row[UpdatedOnAttribute] = Time(team.UpdatedOn);
        row[DeletedOnAttribute] = Time(team.DeletedOn);
        row["keys"] = new AttributeValue
        {
            L = [.. team.Keys.Select(key => new AttributeValue { M = new() { ["key_type"] = S(key.KeyType), ["key_value"] = S(key.KeyValue) } })],
        };
        row[VersionAttribute] = N(team.Version);
    }

    private static long Number(Dictionary<string, AttributeValue> row, string name) =>
        NumberOrNull(row, name) ?? throw new InvalidDataException($"Row {TextOrNull(row, Pk)}/{TextOrNull(row, Sk)} has no '{name}'.");

    private static string Text(Dictionary<string, AttributeValue> row, string name) =>
        TextOrNull(row, name) ?? throw new InvalidDataException($"Row {TextOrNull(row, Pk)}/{TextOrNull(row, Sk)} has no '{name}'.");

    private static DateTimeOffset? TimeOrNull(Dictionary<string, AttributeValue> row, string name) =>
        TextOrNull(row, name) is { } text ? PythonTime.Parse(text) : null;

    /// <summary>Rows from the existing service carry no version: created is 1, deleted one more.</summary>
    private static long VersionOf(Dictionary<string, AttributeValue> row) => NumberOrNull(row, VersionAttribute) ?? (IsActive(row) ? 1 : 2);
}
