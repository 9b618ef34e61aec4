using Amazon.DynamoDBv2.Model;
using static Cpm.Api.Storage.DynamoDb.DynamoDbRows;
using static Cpm.Api.Storage.DynamoDb.DynamoDbTable;

namespace Cpm.Api.Storage.DynamoDb;

/// <summary>The shared Data Protection key ring: one partition, a row per key, read consistently so a key one instance just stored is seen by all.</summary>
internal sealed partial class DynamoDbStore
{
    public Task<IReadOnlyList<string>> ReadProtectionKeysAsync(CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var rows = await QueryAsync(new QueryRequest
            {
                TableName = _table,
                ConsistentRead = true,
                KeyConditionExpression = "#pk = :keys",
                ExpressionAttributeNames = new() { ["#pk"] = Pk },
                ExpressionAttributeValues = new() { [":keys"] = S(ProtectionKeysKey) },
            }, cancellationToken);
            return (IReadOnlyList<string>)[.. rows.Select(ReadProtectionKey)];
        }, cancellationToken);

    public Task AddProtectionKeyAsync(string name, string xml, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            try
            {
                await client.PutItemAsync(new PutItemRequest
                {
                    TableName = _table,
                    Item = ProtectionKeyRow(name, xml),
                    ConditionExpression = "attribute_not_exists(#pk)",
                    ExpressionAttributeNames = new() { ["#pk"] = Pk },
                }, cancellationToken);
            }
            catch (ConditionalCheckFailedException)
            {
                // Already stored: the SDK resent a put whose answer was lost. A key is never replaced.
            }

            return true;
        }, cancellationToken);
}
