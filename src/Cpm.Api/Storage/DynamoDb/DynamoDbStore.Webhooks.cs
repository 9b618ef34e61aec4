using Amazon.DynamoDBv2.Model;
using Cpm.Api.Wire;
using static Cpm.Api.Storage.DynamoDb.DynamoDbRows;
using static Cpm.Api.Storage.DynamoDb.DynamoDbTable;

namespace Cpm.Api.Storage.DynamoDb;

/// <summary>
/// Webhook subscriptions in a partition of their own (<c>WEBHOOK_SUBSCRIPTIONS</c>, sort key = id),
/// which the existing service never reads. A subscriber's cursor, lease and last attempt share its
/// <c>DELIVERY#</c> row: the lease is taken and progress saved by conditional updates of that row,
/// so two nodes never both hold it and a node that lost it cannot move the cursor.
/// </summary>
internal sealed partial class DynamoDbStore
{
    private const string WebhooksKey = "WEBHOOK_SUBSCRIPTIONS";
    private const string WebhookRowType = "webhook_subscription";
    private const string SecretAttribute = "protected_secret";
    private const string HolderAttribute = "lease_holder";
    private const string TokenAttribute = "lease_token";
    private const string UntilAttribute = "lease_until_ms";
    private const string AheadAttribute = "acknowledged_ahead";
    private const string AttemptAtAttribute = "attempt_at";
    private const string AttemptStatusAttribute = "attempt_status";
    private const string AttemptErrorAttribute = "attempt_error";

    public Task CreateWebhookAsync(WebhookRecord webhook, StoredResponse? response, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var elapsed = System.Diagnostics.Stopwatch.StartNew();
            while (true)
            {
                // The cursor starts at the feed's end, checked unchanged by the same transaction.
                var end = await ReadSequenceAsync(cancellationToken);
                var items = new List<TransactWriteItem>
                {
                    new() { Put = new Put { TableName = _table, Item = WebhookRow(webhook), ConditionExpression = DynamoDbExpression.MustNotExist.Text } },
                    new() { Put = new Put { TableName = _table, Item = DeliveryRow(webhook.Subscriber, end), ConditionExpression = DynamoDbExpression.MustNotExist.Text } },
                    new()
                    {
                        ConditionCheck = new ConditionCheck
                        {
                            TableName = _table,
                            Key = Key(SequenceKey, SequenceKey),
                            ConditionExpression = end == 0 ? "attribute_not_exists(#seq)" : "#seq = :end",
                            ExpressionAttributeNames = new() { ["#seq"] = LastSequenceAttribute },
                            ExpressionAttributeValues = end == 0 ? null : new() { [":end"] = N(end) },
                        },
                    },
                };
                if (response is not null)
                {
                    var free = ResponseFree(response);
                    items.Add(new() { Put = new Put { TableName = _table, Item = ResponseRow(response), ConditionExpression = free.Text, ExpressionAttributeNames = free.NamesOrNull, ExpressionAttributeValues = free.ValuesOrNull } });
                }

                try
                {
                    await client.TransactWriteItemsAsync(new TransactWriteItemsRequest { TransactItems = items, ClientRequestToken = Guid.NewGuid().ToString() }, cancellationToken);
                    return true;
                }
                catch (TransactionCanceledException cancelled) when (DynamoDbWrite<bool>.IsTransient(cancelled))
                {
                    var reasons = cancelled.CancellationReasons ?? [];
                    if (response is not null && reasons.Count > 3 && reasons[3].Code == "ConditionalCheckFailed")
                    {
                        throw new DuplicateRequestException();
                    }

                    // Another write took the next sequence number: read the new end and try again.
                    ThrowIfPastDeadline(elapsed);
                    await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 20)), cancellationToken);
                }
            }
        }, cancellationToken);

    public Task<IReadOnlyList<WebhookRecord>> ListWebhooksAsync(CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var rows = await QueryAsync(new QueryRequest
            {
                TableName = _table,
                ConsistentRead = true,
                KeyConditionExpression = "#pk = :webhooks",
                ExpressionAttributeNames = new() { ["#pk"] = Pk },
                ExpressionAttributeValues = new() { [":webhooks"] = S(WebhooksKey) },
            }, cancellationToken);
            return (IReadOnlyList<WebhookRecord>)[.. rows.Select(ReadWebhook).OrderBy(w => w.CreatedOn).ThenBy(w => w.Id, StringComparer.Ordinal)];
        }, cancellationToken);

    public Task<WebhookRecord?> GetWebhookAsync(string id, CancellationToken cancellationToken) =>
        CallAsync(async () => IsStorableKey(id) && await GetAsync(WebhooksKey, id, cancellationToken) is { } row ? ReadWebhook(row) : null, cancellationToken);

    public Task<bool> DeleteWebhookAsync(string id, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var delivery = DeliveryKey(WebhookRecord.SubscriberFor(id));
            try
            {
                await client.TransactWriteItemsAsync(new TransactWriteItemsRequest
                {
                    TransactItems =
                    [
                        new() { Delete = new Delete { TableName = _table, Key = Key(WebhooksKey, id), ConditionExpression = $"attribute_exists({Pk})" } },
                        new() { Delete = new Delete { TableName = _table, Key = Key(delivery, delivery) } },
                    ],
                    ClientRequestToken = Guid.NewGuid().ToString(),
                }, cancellationToken);
                return true;
            }
            catch (TransactionCanceledException cancelled) when (cancelled.CancellationReasons is [{ Code: "ConditionalCheckFailed" }, ..])
            {
                return false;
            }
        }, cancellationToken);

    public Task<long?> GetDeliveryCursorAsync(string subscriber, CancellationToken cancellationToken) =>
        CallAsync(async () => await GetDeliveryRowAsync(subscriber, cancellationToken) is { } row ? NumberOrNull(row, DeliveredAttribute) : null, cancellationToken);

    public Task<DeliveryState> GetDeliveryStateAsync(string subscriber, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var row = await GetDeliveryRowAsync(subscriber, cancellationToken);
            var cursor = row is null ? null : NumberOrNull(row, DeliveredAttribute);

            // The feed is gapless: what waits is the distance to its end.
            var pending = cursor is { } through ? Math.Max(0, await ReadSequenceAsync(cancellationToken) - through) : 0;
            if (row is null)
            {
                return new DeliveryState(null, 0, null, null, null);
            }

            var attempt = TextOrNull(row, AttemptAtAttribute) is { } at
                ? new DeliveryAttempt(PythonTime.Parse(at), (int?)NumberOrNull(row, AttemptStatusAttribute), TextOrNull(row, AttemptErrorAttribute))
                : null;
            var until = NumberOrNull(row, UntilAttribute) is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : (DateTimeOffset?)null;
            return new DeliveryState(cursor, pending, attempt, TextOrNull(row, HolderAttribute), until);
        }, cancellationToken);

    public Task<DeliveryLease?> TryTakeLeaseAsync(string subscriber, string holder, DateTimeOffset now, DateTimeOffset until, bool mustHaveCursor, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var key = DeliveryKey(subscriber);
            var token = Guid.NewGuid().ToString("N");
            var free = "(attribute_not_exists(#until) OR #until <= :now)";
            var names = new Dictionary<string, string>
            {
                ["#holder"] = HolderAttribute,
                ["#token"] = TokenAttribute,
                ["#until"] = UntilAttribute,
                ["#row_type"] = RowTypeAttribute,
                ["#subscriber"] = "subscriber",
            };
            if (mustHaveCursor)
            {
                names["#seq"] = DeliveredAttribute;
            }

            try
            {
                var response = await client.UpdateItemAsync(new UpdateItemRequest
                {
                    TableName = _table,
                    Key = Key(key, key),
                    UpdateExpression = "SET #holder = :holder, #token = :token, #until = :until, #row_type = :row_type, #subscriber = :subscriber",
                    ConditionExpression = mustHaveCursor ? $"{free} AND attribute_exists(#seq)" : free,
                    ExpressionAttributeNames = names,
                    ExpressionAttributeValues = new()
                    {
                        [":holder"] = S(holder),
                        [":token"] = S(token),
                        [":until"] = N(until.ToUnixTimeMilliseconds()),
                        [":now"] = N(now.ToUnixTimeMilliseconds()),
                        [":row_type"] = S(DeliveryRowType),
                        [":subscriber"] = S(subscriber),
                    },
                    ReturnValues = "ALL_NEW",
                }, cancellationToken);
                var row = response.Attributes;
                return new DeliveryLease(subscriber, holder, token, NumberOrNull(row, DeliveredAttribute), SequenceList.Parse(TextOrNull(row, AheadAttribute)));
            }
            catch (ConditionalCheckFailedException)
            {
                return null;
            }
        }, cancellationToken);

    public Task<bool> SaveDeliveryProgressAsync(DeliveryLease lease, DeliveryProgress progress, DateTimeOffset until, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var key = DeliveryKey(lease.Subscriber);
            var names = new Dictionary<string, string> { ["#token"] = TokenAttribute, ["#until"] = UntilAttribute, ["#ahead"] = AheadAttribute, ["#seq"] = DeliveredAttribute };
            var values = new Dictionary<string, AttributeValue>
            {
                [":token"] = S(lease.Token),
                [":until"] = N(until.ToUnixTimeMilliseconds()),
                [":ahead"] = S(SequenceList.Format(progress.AcknowledgedAhead)),
                [":seq"] = N(progress.DeliveredThrough),
            };
            var update = "SET #until = :until, #ahead = :ahead, #seq = :seq";
            if (progress.LastAttempt is { } attempt)
            {
                update += ", #at = :at, #status = :status, #error = :error";
                names["#at"] = AttemptAtAttribute;
                names["#status"] = AttemptStatusAttribute;
                names["#error"] = AttemptErrorAttribute;
                values[":at"] = Time(attempt.At);
                values[":status"] = attempt.Status is { } status ? N(status) : new AttributeValue { NULL = true };
                values[":error"] = NullableS(attempt.Error);
            }

            try
            {
                await client.UpdateItemAsync(new UpdateItemRequest
                {
                    TableName = _table,
                    Key = Key(key, key),
                    UpdateExpression = update,
                    ConditionExpression = "#token = :token",
                    ExpressionAttributeNames = names,
                    ExpressionAttributeValues = values,
                }, cancellationToken);
                return true;
            }
            catch (ConditionalCheckFailedException)
            {
                return false;
            }
        }, cancellationToken);

    public Task ReleaseLeaseAsync(DeliveryLease lease, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var key = DeliveryKey(lease.Subscriber);
            try
            {
                await client.UpdateItemAsync(new UpdateItemRequest
                {
                    TableName = _table,
                    Key = Key(key, key),
                    UpdateExpression = "SET #until = :zero",
                    ConditionExpression = "#token = :token",
                    ExpressionAttributeNames = new() { ["#token"] = TokenAttribute, ["#until"] = UntilAttribute },
                    ExpressionAttributeValues = new() { [":token"] = S(lease.Token), [":zero"] = N(0) },
                }, cancellationToken);
            }
            catch (ConditionalCheckFailedException)
            {
                // Already taken over, or the subscription was deleted: nothing to release.
            }

            return true;
        }, cancellationToken);

    public Task<long> ReadFeedEndAsync(CancellationToken cancellationToken) => CallAsync(() => ReadSequenceAsync(cancellationToken), cancellationToken);

    private Task<Dictionary<string, AttributeValue>?> GetDeliveryRowAsync(string subscriber, CancellationToken cancellationToken)
    {
        var key = DeliveryKey(subscriber);
        return GetAsync(key, key, cancellationToken);
    }

    private static Dictionary<string, AttributeValue> WebhookRow(WebhookRecord webhook) => new()
    {
        [Pk] = S(WebhooksKey),
        [Sk] = S(webhook.Id),
        [RowTypeAttribute] = S(WebhookRowType),
        [IdAttribute] = S(webhook.Id),
        ["url"] = S(webhook.Url),
        ["description"] = NullableS(webhook.Description),
        [SecretAttribute] = S(webhook.ProtectedSecret),
        [CreatedOnAttribute] = Time(webhook.CreatedOn),
    };

    private static WebhookRecord ReadWebhook(Dictionary<string, AttributeValue> row) => new(
        TextOrNull(row, IdAttribute)!,
        TextOrNull(row, "url")!,
        TextOrNull(row, "description"),
        TextOrNull(row, SecretAttribute)!,
        PythonTime.Parse(TextOrNull(row, CreatedOnAttribute)!));
}
