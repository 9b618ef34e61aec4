using System.Runtime.CompilerServices;
using Amazon.DynamoDBv2.Model;
using Cpm.Api.Products;
using Cpm.Api.ProductTeams;
using static Cpm.Api.Storage.DynamoDb.DynamoDbRows;
using static Cpm.Api.Storage.DynamoDb.DynamoDbTable;

namespace Cpm.Api.Storage.DynamoDb;

/// <summary>
/// Export scans the table (every team and product, in id order like the SQLite store, so two
/// exports compare byte for byte). Import is offline: it writes the rows live writes would have
/// left, in <c>BatchWriteItem</c>s of 25, then the sequence row last.
/// </summary>
internal sealed partial class DynamoDbStore
{
    private const int ImportBatchSize = 25;
    private const int ImportParallelBatches = 4;
    private const int ImportBatchAttempts = 10;
    private static readonly TimeSpan ImportMaxBackoff = TimeSpan.FromSeconds(2);
    private const string NotEmpty = "Import needs an empty store; this one already holds data.";

    public async IAsyncEnumerable<ProductTeam> ExportTeamsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var teams = await CallAsync(async () => (await ScanAsync(TeamRowType, cancellationToken)).Select(ReadTeam).ToList(), cancellationToken);
        foreach (var team in teams.OrderBy(team => team.Id, StringComparer.Ordinal))
        {
            yield return team;
        }
    }

    public async IAsyncEnumerable<Product> ExportProductsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var products = await CallAsync(async () => (await ScanAsync(ProductRowType, cancellationToken)).Select(ReadProduct).ToList(), cancellationToken);
        foreach (var product in products.OrderBy(product => product.Id, StringComparer.Ordinal))
        {
            yield return product;
        }
    }

    public Task ImportAsync(IReadOnlyList<ProductTeam> teams, IReadOnlyList<Product> products, IReadOnlyList<ChangeEvent> events, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var rows = ImportRows(teams, products, events);
            if (await ReadSequenceAsync(cancellationToken) > 0 || (await ScanAsync(TeamRowType, cancellationToken, firstOnly: true)).Count > 0)
            {
                throw new InvalidOperationException(NotEmpty);
            }

            await Parallel.ForEachAsync(
                rows.Chunk(ImportBatchSize),
                new ParallelOptions { MaxDegreeOfParallelism = ImportParallelBatches, CancellationToken = cancellationToken },
                async (batch, ct) => await WriteBatchAsync(batch, ct));
            // Last: the feed carries on from the events imported, and every product has an id row
            // carrying it, so the table is taken over (docs/DYNAMODB.md) without a migrate.
            var names = new Dictionary<string, string> { ["#taken_over"] = TakenOverAttribute, ["#row_type"] = RowTypeAttribute, ["#seq"] = LastSequenceAttribute };
            var values = new Dictionary<string, AttributeValue> { [":true"] = new() { BOOL = true }, [":row_type"] = S(SequenceRowType) };
            var update = "SET #taken_over = :true, #row_type = :row_type";
            if (events.Count > 0)
            {
                values[":seq"] = N(events.Count);
                update += ", #seq = :seq";
            }

            try
            {
                await client.UpdateItemAsync(new UpdateItemRequest
                {
                    TableName = _table,
                    Key = Key(SequenceKey, SequenceKey),
                    UpdateExpression = update,
                    ConditionExpression = "attribute_not_exists(#seq)",
                    ExpressionAttributeNames = names,
                    ExpressionAttributeValues = values,
                }, cancellationToken);
            }
            catch (ConditionalCheckFailedException)
            {
                throw new InvalidOperationException($"{NotEmpty} Events were written to it during the import.");
            }

            return events.Count;
        }, cancellationToken);

    /// <summary>
    /// Team rows (with <c>products_version</c> counting their products), alias rows of live teams
    /// and tombstones of deleted ones, product and product id rows, then each event in the feed and
    /// in its entity's history numbered 1 to N. Checked whole before anything is written.
    /// </summary>
    private static List<Dictionary<string, AttributeValue>> ImportRows(IReadOnlyList<ProductTeam> teams, IReadOnlyList<Product> products, IReadOnlyList<ChangeEvent> events)
    {
        var rows = new List<Dictionary<string, AttributeValue>>();
        var keys = new HashSet<(string, string)>();
        void Add(Dictionary<string, AttributeValue> row)
        {
            var (pk, sk) = (row[Pk].S, row[Sk].S);
            if (!IsStorableKey(pk) || !IsStorableKey(sk))
            {
                throw new InvalidOperationException($"The import cannot hold the key {pk}: DynamoDB keys are at most {MaxKeyBytes} bytes here.");
            }

            if (!keys.Add((pk, sk)))
            {
                throw new InvalidOperationException($"The import holds two rows for {pk} / {sk} (two live teams with one alias?).");
            }

            if (DynamoDbItemSize.Of(row) > DynamoDbItemSize.MaxBytes)
            {
                throw new InvalidOperationException($"The row {pk} / {sk} would be over DynamoDB's item limit of {DynamoDbItemSize.MaxBytes} bytes.");
            }

            rows.Add(row);
        }

        var productsPerTeam = products.CountBy(product => product.TeamId).ToDictionary();
        foreach (var team in teams)
        {
            var row = TeamRow(team);
            if (productsPerTeam.TryGetValue(team.Id, out var count))
            {
                row[ProductsVersionAttribute] = N(count);
            }

            Add(row);
            if (team.Alias is { } alias && team.IsActive)
            {
                Add(AliasRow(team, TeamKey(alias)));
            }
            else if (team.Alias is { } deletedAlias)
            {
                // As a delete leaves it; a later millisecond if another deleted team left one at the same time.
                var at = (team.DeletedOn ?? team.UpdatedOn ?? team.CreatedOn).ToUnixTimeMilliseconds();
                while (keys.Contains(($"{TeamKey(deletedAlias)}-{at}", $"{TeamKey(deletedAlias)}-{at}")))
                {
                    at++;
                }

                Add(AliasRow(team, $"{TeamKey(deletedAlias)}-{at}"));
            }
        }

        foreach (var product in products)
        {
            Add(ProductRow(product));
            Add(ProductIdRow(product));
        }

        for (var index = 0; index < events.Count; index++)
        {
            Add(EventRow(EventFeedKey, index + 1, events[index]));
            Add(EventRow(HistoryKey(events[index]), index + 1, events[index]));
        }

        return rows;
    }

    /// <summary>One batch; what DynamoDB hands back unwritten (throttling) is sent again after a backoff.</summary>
    private async Task WriteBatchAsync(Dictionary<string, AttributeValue>[] rows, CancellationToken cancellationToken)
    {
        var pending = new Dictionary<string, List<WriteRequest>> { [_table] = [.. rows.Select(row => new WriteRequest { PutRequest = new PutRequest { Item = row } })] };
        for (var attempt = 1; ; attempt++)
        {
            var response = await client.BatchWriteItemAsync(new BatchWriteItemRequest { RequestItems = pending }, cancellationToken);
            if (response.UnprocessedItems is not { Count: > 0 } unprocessed)
            {
                return;
            }

            if (attempt == ImportBatchAttempts)
            {
                throw new StorageUnavailableException(
                    $"DynamoDB kept refusing part of the import after {ImportBatchAttempts} attempts; the table now holds part of it: empty it before importing again.");
            }

            pending = unprocessed;
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(ImportMaxBackoff.TotalMilliseconds, 50 * Math.Pow(2, attempt))), cancellationToken);
        }
    }

    /// <summary>Rows of one type anywhere in the table (consistent), following every page, or only until the first.</summary>
    private async Task<List<Dictionary<string, AttributeValue>>> ScanAsync(string rowType, CancellationToken cancellationToken, bool firstOnly = false)
    {
        var rows = new List<Dictionary<string, AttributeValue>>();
        var request = new ScanRequest
        {
            TableName = _table,
            ConsistentRead = true,
            FilterExpression = "#row_type = :row_type",
            ExpressionAttributeNames = new() { ["#row_type"] = RowTypeAttribute },
            ExpressionAttributeValues = new() { [":row_type"] = S(rowType) },
        };
        do
        {
            var response = await client.ScanAsync(request, cancellationToken);
            rows.AddRange(response.Items ?? []);
            request.ExclusiveStartKey = response.LastEvaluatedKey is { Count: > 0 } next ? next : null;
        }
        while (request.ExclusiveStartKey is not null && !(firstOnly && rows.Count > 0));

        return rows;
    }
}
