using Amazon.DynamoDBv2.Model;
using static Cpm.Api.Storage.DynamoDb.DynamoDbRows;
using static Cpm.Api.Storage.DynamoDb.DynamoDbTable;

namespace Cpm.Api.Storage.DynamoDb;

/// <summary>History, the change feed, and remembered answers: rows read by key or by one partition, consistently.</summary>
internal sealed partial class DynamoDbStore
{
    public Task<IReadOnlyList<SequencedEvent>> GetHistoryAsync(string entityType, string entityId, long afterPosition, int limit, CancellationToken cancellationToken) =>
        CallAsync(async () => IsStorableKey(entityId)
            ? await ReadSequenceAsync(HistoryKey(entityType, entityId), afterPosition, limit, cancellationToken)
            : [], cancellationToken);

    public Task<IReadOnlyList<SequencedEvent>> ReadEventsAsync(long afterSequence, int limit, CancellationToken cancellationToken) =>
        CallAsync(() => ReadSequenceAsync(EventFeedKey, afterSequence, limit, cancellationToken), cancellationToken);

    /// <summary>Event rows of one partition (the feed, or an entity's history) after a sequence number, in order.</summary>
    private async Task<IReadOnlyList<SequencedEvent>> ReadSequenceAsync(string partition, long after, int limit, CancellationToken cancellationToken)
    {
        var events = new List<SequencedEvent>();
        var request = new QueryRequest
        {
            TableName = _table,
            ConsistentRead = true,
            KeyConditionExpression = "#pk = :partition AND #sk > :after",
            ExpressionAttributeNames = new() { ["#pk"] = Pk, ["#sk"] = Sk },
            ExpressionAttributeValues = new() { [":partition"] = S(partition), [":after"] = S(SequenceNumber(after)) },
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
    }

    public Task<StoredResponse?> FindResponseAsync(string caller, string requestId, DateTimeOffset notBefore, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var key = ResponseKey(caller, requestId);
            return await GetAsync(key, key, cancellationToken) is { } row && ReadResponse(row) is var response && response.CreatedOn >= notBefore
                ? response
                : null;
        }, cancellationToken);
}
