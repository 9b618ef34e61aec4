using Amazon.DynamoDBv2.Model;
using static Cpm.Api.Storage.DynamoDb.DynamoDbRows;
using static Cpm.Api.Storage.DynamoDb.DynamoDbTable;

namespace Cpm.Api.Storage.DynamoDb;

/// <summary>History, the change feed, remembered answers and webhook cursors: rows read by key or by one partition, consistently.</summary>
internal sealed partial class DynamoDbStore
{
    public Task<IReadOnlyList<ChangeEvent>> GetHistoryAsync(string entityType, string entityId, CancellationToken cancellationToken) =>
        CallAsync<IReadOnlyList<ChangeEvent>>(async () =>
        {
            if (!IsStorableKey(entityId))
            {
                return [];
            }

            var rows = await QueryAsync(new QueryRequest
            {
                TableName = _table,
                ConsistentRead = true,
                KeyConditionExpression = "#pk = :history",
                ExpressionAttributeNames = new() { ["#pk"] = Pk },
                ExpressionAttributeValues = new() { [":history"] = S(HistoryKey(entityType, entityId)) },
            }, cancellationToken);
            return [.. rows.Select(ReadEvent)];
        }, cancellationToken);

    public Task<IReadOnlyList<SequencedEvent>> ReadEventsAsync(long afterSequence, int limit, CancellationToken cancellationToken) =>
        CallAsync<IReadOnlyList<SequencedEvent>>(async () =>
        {
            var events = new List<SequencedEvent>();
            var request = new QueryRequest
            {
                TableName = _table,
                ConsistentRead = true,
                KeyConditionExpression = "#pk = :feed AND #sk > :after",
                ExpressionAttributeNames = new() { ["#pk"] = Pk, ["#sk"] = Sk },
                ExpressionAttributeValues = new() { [":feed"] = S(EventFeedKey), [":after"] = S(SequenceNumber(afterSequence)) },
            };
            do
            {
                // A page stops at 1 MB, so a large limit may take several.
                request.Limit = limit - events.Count;
                var response = await client.QueryAsync(request, cancellationToken);
                events.AddRange((response.Items ?? []).Select(ReadSequencedEvent));
                request.ExclusiveStartKey = response.LastEvaluatedKey is { Count: > 0 } next ? next : null;
            }
            while (request.ExclusiveStartKey is not null && events.Count < limit);

            return events;
        }, cancellationToken);

    public Task<StoredResponse?> FindResponseAsync(string caller, string requestId, DateTimeOffset notBefore, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var key = ResponseKey(caller, requestId);
            return await GetAsync(key, key, cancellationToken) is { } row && ReadResponse(row) is var response && response.CreatedOn >= notBefore
                ? response
                : null;
        }, cancellationToken);

    public Task<long?> GetDeliveryCursorAsync(string subscriber, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var key = DeliveryKey(subscriber);
            return await GetAsync(key, key, cancellationToken) is { } row ? NumberOrNull(row, DeliveredAttribute) : null;
        }, cancellationToken);

    public Task SaveDeliveryCursorAsync(string subscriber, long sequence, CancellationToken cancellationToken) =>
        CallAsync(() => client.PutItemAsync(new PutItemRequest { TableName = _table, Item = DeliveryRow(subscriber, sequence) }, cancellationToken), cancellationToken);
}
