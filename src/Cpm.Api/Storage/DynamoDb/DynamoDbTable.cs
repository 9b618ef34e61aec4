using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace Cpm.Api.Storage.DynamoDb;

/// <summary>
/// The single table in the existing service's layout (docs/DYNAMODB.md): string keys <c>pk</c>/<c>sk</c> and two GSIs over
/// <c>pk_read_N</c>/<c>sk_read_N</c> projecting everything. Key prefixes name the row kinds.
/// </summary>
internal static class DynamoDbTable
{
    public const string Pk = "pk";
    public const string Sk = "sk";
    public const string PkRead1 = "pk_read_1";
    public const string SkRead1 = "sk_read_1";
    public const string PkRead2 = "pk_read_2";
    public const string SkRead2 = "sk_read_2";

    /// <summary>Index 1: any team, alias or product by its own key (<c>PT#</c>, <c>P#</c>).</summary>
    public const string ReadIndex1 = "idx_gsi_read_1";

    /// <summary>Index 2: an organisation's teams and products (<c>ORG#</c>).</summary>
    public const string ReadIndex2 = "idx_gsi_read_2";

    public const string TeamPrefix = "PT#";
    public const string ProductPrefix = "P#";
    public const string OrganisationPrefix = "ORG#";

    /// <summary>One row per product id ever issued: keeps ids unique forever and finds a product's team.</summary>
    public const string ProductIdPrefix = "PRODUCT_ID#";

    /// <summary>The feed partition: every event, sort key = its sequence number.</summary>
    public const string EventFeedKey = "EVENT_FEED";

    /// <summary>One partition per entity with a copy of its own events, sort key = sequence number.</summary>
    public const string HistoryPrefix = "HISTORY#";

    /// <summary>The counter row holding the last event sequence number issued.</summary>
    public const string SequenceKey = "EVENT_SEQUENCE";

    /// <summary>One row per remembered answer to an idempotent POST.</summary>
    public const string ResponsePrefix = "RESPONSE#";

    /// <summary>One row per webhook subscriber: the last sequence it acknowledged.</summary>
    public const string DeliveryPrefix = "DELIVERY#";

    /// <summary>The partition of the shared Data Protection key ring, sort key = the key's name.</summary>
    public const string ProtectionKeysKey = "DATA_PROTECTION_KEYS";

    /// <summary>DynamoDB refuses sort keys over 1024 bytes; ids and aliases are far shorter, so longer keys cannot exist.</summary>
    public const int MaxKeyBytes = 1000;

    public static CreateTableRequest CreateRequest(string tableName) => new()
    {
        TableName = tableName,
        BillingMode = BillingMode.PAY_PER_REQUEST,
        AttributeDefinitions = [.. new[] { Pk, Sk, PkRead1, SkRead1, PkRead2, SkRead2 }.Select(name => new AttributeDefinition(name, ScalarAttributeType.S))],
        KeySchema = [new KeySchemaElement(Pk, KeyType.HASH), new KeySchemaElement(Sk, KeyType.RANGE)],
        GlobalSecondaryIndexes =
        [
            Index(ReadIndex1, PkRead1, SkRead1),
            Index(ReadIndex2, PkRead2, SkRead2),
        ],
    };

    private static GlobalSecondaryIndex Index(string name, string hashKey, string rangeKey) => new()
    {
        IndexName = name,
        KeySchema = [new KeySchemaElement(hashKey, KeyType.HASH), new KeySchemaElement(rangeKey, KeyType.RANGE)],
        Projection = new Projection { ProjectionType = ProjectionType.ALL },
    };
}
