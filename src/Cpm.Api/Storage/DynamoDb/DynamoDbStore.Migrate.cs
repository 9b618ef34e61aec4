using Amazon.DynamoDBv2.Model;
using Cpm.Api.Entities;
using static Cpm.Api.Storage.DynamoDb.DynamoDbRows;
using static Cpm.Api.Storage.DynamoDb.DynamoDbTable;

namespace Cpm.Api.Storage.DynamoDb;

/// <summary>The end of a takeover: every product gets an id row carrying it, then the table is marked as taken over.</summary>
internal sealed partial class DynamoDbStore
{
    private const int MigrateParallelProducts = 4;
    private const int MigrateAttempts = 20;

    /// <summary>
    /// Writes each product's copy to its id row, in a transaction that checks the product row is
    /// still as scanned (so it may run while the service serves requests), then sets
    /// <c>taken_over</c> on the sequence row. Running it again rewrites the same copies.
    /// </summary>
    public async Task<Migration> MigrateAsync(CancellationToken cancellationToken)
    {
        var products = await ScanAsync(ProductRowType, cancellationToken);
        var copied = 0;
        var sharedIds = new List<string>();
        await Parallel.ForEachAsync(
            products,
            new ParallelOptions { MaxDegreeOfParallelism = MigrateParallelProducts, CancellationToken = cancellationToken },
            async (row, ct) =>
            {
                if (await CopyToIdRowAsync(row, ct))
                {
                    Interlocked.Increment(ref copied);
                }
                else
                {
                    lock (sharedIds)
                    {
                        sharedIds.Add(TextOrNull(row, IdAttribute)!);
                    }
                }
            });

        await client.UpdateItemAsync(new UpdateItemRequest
        {
            TableName = _table,
            Key = Key(SequenceKey, SequenceKey),
            UpdateExpression = "SET #taken_over = :true, #row_type = :row_type",
            ExpressionAttributeNames = new() { ["#taken_over"] = TakenOverAttribute, ["#row_type"] = RowTypeAttribute },
            ExpressionAttributeValues = new() { [":true"] = new AttributeValue { BOOL = true }, [":row_type"] = S(SequenceRowType) },
        }, cancellationToken);
        _takenOver = true;
        return new Migration(copied, [.. sharedIds.Order(StringComparer.Ordinal)]);
    }

    /// <summary>False when the id row is another team's product's (an id the existing service used twice).</summary>
    private async Task<bool> CopyToIdRowAsync(Dictionary<string, AttributeValue> row, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var product = ReadProduct(row);
            var unchanged = UnchangedSinceRead(row, TextOrNull(row, StatusAttribute) ?? EntityStatus.Active);
            var idRowFree = IdRowOf(product.TeamId);
            try
            {
                await client.TransactWriteItemsAsync(new TransactWriteItemsRequest
                {
                    TransactItems =
                    [
                        new TransactWriteItem
                        {
                            ConditionCheck = new ConditionCheck
                            {
                                TableName = _table,
                                Key = Key(row[Pk].S, row[Sk].S),
                                ConditionExpression = unchanged.Text,
                                ExpressionAttributeNames = unchanged.NamesOrNull,
                                ExpressionAttributeValues = unchanged.ValuesOrNull,
                            },
                        },
                        new TransactWriteItem
                        {
                            Put = new Put
                            {
                                TableName = _table,
                                Item = ProductIdRow(product),
                                ConditionExpression = idRowFree.Text,
                                ExpressionAttributeNames = idRowFree.NamesOrNull,
                                ExpressionAttributeValues = idRowFree.ValuesOrNull,
                            },
                        },
                    ],
                }, cancellationToken);
                return true;
            }
            catch (TransactionCanceledException cancelled) when (attempt < MigrateAttempts && DynamoDbWrite<bool>.IsTransient(cancelled))
            {
                if (cancelled.CancellationReasons is [_, { Code: "ConditionalCheckFailed" }])
                {
                    return false;
                }

                // The product changed (a live write, which rewrote its copy too) or a conflict: read it again.
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(10, 100)), cancellationToken);
                row = await GetAsync(Key(row[Pk].S, row[Sk].S), cancellationToken) ?? row;
            }
        }
    }
}

/// <summary>What <c>migrate</c> did: products copied to their id rows, and ids two teams' products share (each id row keeps one).</summary>
internal sealed record Migration(int Copied, IReadOnlyList<string> SharedIds);
