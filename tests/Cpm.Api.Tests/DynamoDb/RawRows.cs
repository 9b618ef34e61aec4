using System.Globalization;
using System.Text;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace Cpm.Api.Tests.DynamoDb;

/// <summary>Rows as the low-level client sees them, written out with their DynamoDB types so tests can compare them whole.</summary>
public static class RawRows
{
    /// <summary>One attribute per line, sorted by name: <c>name = S:"text"</c>, <c>root = BOOL:true</c>, <c>keys = L[M{...}]</c>.</summary>
    public static string Describe(Dictionary<string, AttributeValue> row) =>
        string.Join("\n", row.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => $"{pair.Key} = {Describe(pair.Value)}"));

    public static string Describe(AttributeValue value)
    {
        if (value.S is not null)
        {
            return $"S:\"{value.S}\"";
        }

        if (value.N is not null)
        {
            return $"N:{value.N}";
        }

        if (value.BOOL is { } flag)
        {
            return flag ? "BOOL:true" : "BOOL:false";
        }

        if (value.NULL == true)
        {
            return "NULL";
        }

        if (value.L is { } list)
        {
            return "L[" + string.Join(", ", list.Select(Describe)) + "]";
        }

        if (value.M is { } map)
        {
            return "M{" + string.Join(", ", map.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => $"{pair.Key} = {Describe(pair.Value)}")) + "}";
        }

        throw new InvalidOperationException("An attribute type these tests do not expect.");
    }

    public static async Task<Dictionary<string, AttributeValue>?> GetAsync(IAmazonDynamoDB dynamo, string table, string pk, string sk)
    {
        var response = await dynamo.GetItemAsync(new GetItemRequest
        {
            TableName = table,
            ConsistentRead = true,
            Key = new() { ["pk"] = new AttributeValue(pk), ["sk"] = new AttributeValue(sk) },
        });
        return response.Item is { Count: > 0 } item ? item : null;
    }

    /// <summary>Every row of a partition, in sort key order.</summary>
    public static async Task<List<Dictionary<string, AttributeValue>>> PartitionAsync(IAmazonDynamoDB dynamo, string table, string pk)
    {
        var rows = new List<Dictionary<string, AttributeValue>>();
        var request = new QueryRequest
        {
            TableName = table,
            ConsistentRead = true,
            KeyConditionExpression = "pk = :pk",
            ExpressionAttributeValues = new() { [":pk"] = new AttributeValue(pk) },
        };
        do
        {
            var response = await dynamo.QueryAsync(request);
            rows.AddRange(response.Items ?? []);
            request.ExclusiveStartKey = response.LastEvaluatedKey is { Count: > 0 } next ? next : null;
        }
        while (request.ExclusiveStartKey is not null);

        return rows;
    }

    public static async Task PutAsync(IAmazonDynamoDB dynamo, string table, Dictionary<string, AttributeValue> row) =>
        await dynamo.PutItemAsync(new PutItemRequest { TableName = table, Item = row });

    public static AttributeValue S(string value) => new() { S = value };

    public static AttributeValue N(long value) => new() { N = value.ToString(CultureInfo.InvariantCulture) };

    public static AttributeValue Bool(bool value) => new() { BOOL = value };

    public static AttributeValue Null() => new() { NULL = true };

    public static AttributeValue SOrNull(string? value) => value is null ? Null() : S(value);

    public static AttributeValue List(params AttributeValue[] items) => new() { L = [.. items] };

    public static AttributeValue Map(params (string Name, AttributeValue Value)[] attributes) =>
        new() { M = attributes.ToDictionary(attribute => attribute.Name, attribute => attribute.Value) };

    /// <summary>Lines of <see cref="Describe(Dictionary{string, AttributeValue})"/> for expected rows.</summary>
    public static string Lines(params string[] lines) => new StringBuilder().AppendJoin('\n', lines.Order(StringComparer.Ordinal)).ToString();
}
