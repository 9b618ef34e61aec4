using Amazon.DynamoDBv2.Model;
using static Cpm.Api.Storage.DynamoDb.DynamoDbRows;
using static Cpm.Api.Storage.DynamoDb.DynamoDbTable;

namespace Cpm.Api.Storage.DynamoDb;

/// <summary>A condition or update expression with the names and values it uses (DynamoDB rejects unused ones).</summary>
internal sealed record DynamoDbExpression(string Text, Dictionary<string, string> Names, Dictionary<string, AttributeValue> Values)
{
    public static readonly DynamoDbExpression MustNotExist = new($"attribute_not_exists({Pk})", [], []);

    public Dictionary<string, string>? NamesOrNull => Names.Count > 0 ? Names : null;

    public Dictionary<string, AttributeValue>? ValuesOrNull => Values.Count > 0 ? Values : null;
}

/// <summary>What a write comes to: its result, or (when null) "read again and retry".</summary>
internal sealed record WriteOutcome<T>(T Value);

/// <summary>
/// One <c>TransactWriteItems</c> call being put together: the entity rows it writes, what each
/// row's failed condition means for the caller, and the change events it records. The events
/// take the next numbers of the table's sequence row, and the transaction is conditioned on that
/// row's value, so events are numbered in commit order without gaps.
/// </summary>
internal sealed class DynamoDbWrite<T>(string tableName, T result)
{
    private readonly List<TransactWriteItem> _items = [];
    private readonly List<WriteOutcome<T>?> _whenConditionFails = [];
    private readonly Dictionary<int, Action> _onConditionFailed = [];
    private readonly List<ChangeEvent> _events = [];
    private int? _responseIndex;

    public T Result => result;

    public int EventCount => _events.Count;

    /// <summary>The last sequence number as read together with this write's rows, saving a separate read of the sequence row; null: read it at commit.</summary>
    public long? SequenceAsRead { get; private set; }

    /// <summary>Every write records an event: a write without any has nothing to commit, only its result.</summary>
    public bool WritesNothing => _items.Count == 0 && _events.Count == 0;

    public DynamoDbWrite<T> Put(Dictionary<string, AttributeValue> row, DynamoDbExpression condition, WriteOutcome<T>? whenConditionFails)
    {
        DynamoDbItemSize.EnsureFits(row);
        return Add(new TransactWriteItem
        {
            Put = new Put
            {
                TableName = tableName,
                Item = row,
                ConditionExpression = condition.Text,
                ExpressionAttributeNames = condition.NamesOrNull,
                ExpressionAttributeValues = condition.ValuesOrNull,
            },
        }, whenConditionFails);
    }

    /// <summary>Sets attributes of a row this write read; the row as it will be must still fit in an item.</summary>
    public DynamoDbWrite<T> Set(Dictionary<string, AttributeValue> rowAsRead, Dictionary<string, AttributeValue> changes, DynamoDbExpression condition, WriteOutcome<T>? whenConditionFails)
    {
        var after = new Dictionary<string, AttributeValue>(rowAsRead);
        foreach (var (name, value) in changes)
        {
            after[name] = value;
        }

        DynamoDbItemSize.EnsureFits(after);
        var names = changes.Keys.Select((name, index) => (Name: name, Index: index)).ToList();
        var update = new DynamoDbExpression(
            "SET " + string.Join(", ", names.Select(change => $"#set{change.Index} = :set{change.Index}")),
            names.ToDictionary(change => $"#set{change.Index}", change => change.Name),
            names.ToDictionary(change => $":set{change.Index}", change => changes[change.Name]));
        return Update(Key(rowAsRead[Pk].S, rowAsRead[Sk].S), update, condition, whenConditionFails);
    }

    /// <summary>
    /// Stores an idempotent POST's answer with the write. Its condition (no live answer under this
    /// key) failing means a duplicate of this request committed first: the caller replays that one.
    /// </summary>
    public DynamoDbWrite<T> Remember(Dictionary<string, AttributeValue> responseRow, DynamoDbExpression condition)
    {
        _responseIndex = _items.Count;
        return Put(responseRow, condition, null);
    }

    public DynamoDbWrite<T> Update(Dictionary<string, AttributeValue> key, DynamoDbExpression update, DynamoDbExpression condition, WriteOutcome<T>? whenConditionFails) =>
        Add(new TransactWriteItem
        {
            Update = new Update
            {
                TableName = tableName,
                Key = key,
                UpdateExpression = update.Text,
                ConditionExpression = condition.Text,
                ExpressionAttributeNames = Merge(update.Names, condition.Names),
                ExpressionAttributeValues = Merge(update.Values, condition.Values),
            },
        }, whenConditionFails);

    public DynamoDbWrite<T> Delete(Dictionary<string, AttributeValue> key, DynamoDbExpression condition, WriteOutcome<T>? whenConditionFails) =>
        Add(new TransactWriteItem
        {
            Delete = new Delete
            {
                TableName = tableName,
                Key = key,
                ConditionExpression = condition.Text,
                ExpressionAttributeNames = condition.NamesOrNull,
                ExpressionAttributeValues = condition.ValuesOrNull,
            },
        }, whenConditionFails);

    /// <summary>The sequence row's value, read in the same call as the rows this write checks.</summary>
    public DynamoDbWrite<T> AtSequence(long lastSequence)
    {
        SequenceAsRead = lastSequence;
        return this;
    }

    /// <summary>
    /// When the last item's condition fails, <paramref name="retryDifferently"/> runs before the
    /// write is prepared again: for a condition that fails only on rare data, which the next
    /// attempt reads for instead of every attempt reading it first.
    /// </summary>
    public DynamoDbWrite<T> OnConditionFailed(Action retryDifferently)
    {
        _onConditionFailed[_items.Count - 1] = retryDifferently;
        return this;
    }

    public DynamoDbWrite<T> Record(ChangeEvent change)
    {
        // The history copy has the longer key; the largest sequence number gives the largest size.
        DynamoDbItemSize.EnsureFits(EventRow(HistoryKey(change), long.MaxValue, change));
        _events.Add(change);
        return this;
    }

    /// <summary>The request, given the sequence number read before this write's other reads.</summary>
    public TransactWriteItemsRequest ToRequest(long lastSequence)
    {
        var items = new List<TransactWriteItem>(_items);
        var next = lastSequence + _events.Count;
        var sequenceCondition = lastSequence == 0
            ? new DynamoDbExpression("attribute_not_exists(#seq)", new() { ["#seq"] = LastSequenceAttribute }, [])
            : new DynamoDbExpression("#seq = :expected", new() { ["#seq"] = LastSequenceAttribute }, new() { [":expected"] = N(lastSequence) });
        items.Add(new TransactWriteItem
        {
            Update = new Update
            {
                TableName = tableName,
                Key = Key(SequenceKey, SequenceKey),
                UpdateExpression = "SET #seq = :next, #row_type = :row_type",
                ConditionExpression = sequenceCondition.Text,
                ExpressionAttributeNames = new() { ["#seq"] = LastSequenceAttribute, ["#row_type"] = RowTypeAttribute },
                ExpressionAttributeValues = new(sequenceCondition.Values) { [":next"] = N(next), [":row_type"] = S(SequenceRowType) },
            },
        });
        for (var index = 0; index < _events.Count; index++)
        {
            var sequence = lastSequence + 1 + index;
            var change = _events[index];
            foreach (var pk in new[] { EventFeedKey, HistoryKey(change) })
            {
                items.Add(new TransactWriteItem
                {
                    Put = new Put { TableName = tableName, Item = EventRow(pk, sequence, change), ConditionExpression = DynamoDbExpression.MustNotExist.Text },
                });
            }
        }

        // The SDK resends this same request after a timeout; the token makes DynamoDB apply it once
        // and answer the resend with success, not with "alias taken" by our own first attempt.
        return new TransactWriteItemsRequest { TransactItems = items, ClientRequestToken = Guid.NewGuid().ToString() };
    }

    /// <summary>
    /// What a cancelled transaction means: a duplicate request (thrown), else the outcome of the
    /// first entity row whose condition failed, if that failure settles the request; otherwise null
    /// (retry: a conflict, a newer sequence number, or a row another write changed since it was read).
    /// </summary>
    public WriteOutcome<T>? OutcomeOf(TransactionCanceledException cancelled)
    {
        var reasons = cancelled.CancellationReasons ?? [];
        if (_responseIndex is { } response && response < reasons.Count && reasons[response].Code == "ConditionalCheckFailed")
        {
            throw new DuplicateRequestException();
        }

        foreach (var (index, retryDifferently) in _onConditionFailed)
        {
            if (index < reasons.Count && reasons[index].Code == "ConditionalCheckFailed")
            {
                retryDifferently();
            }
        }

        for (var index = 0; index < Math.Min(reasons.Count, _items.Count); index++)
        {
            if (reasons[index].Code == "ConditionalCheckFailed" && _whenConditionFails[index] is { } outcome)
            {
                return outcome;
            }
        }

        return null;
    }

    /// <summary>Only the sequence row's condition failed: the same write may simply take newer numbers.</summary>
    public bool OnlySequenceMoved(TransactionCanceledException cancelled)
    {
        var reasons = cancelled.CancellationReasons ?? [];
        return reasons.Count > _items.Count
            && reasons[_items.Count].Code == "ConditionalCheckFailed"
            && reasons.Where((_, index) => index != _items.Count).All(reason => reason.Code is null or "None");
    }

    /// <summary>Conflicts, stale reads and throttling pass with time; anything else (a validation error) never will.</summary>
    public static bool IsTransient(TransactionCanceledException cancelled) =>
        (cancelled.CancellationReasons ?? []).All(reason =>
            reason.Code is null or "None" or "ConditionalCheckFailed" or "TransactionConflict" or "ThrottlingError" or "ProvisionedThroughputExceeded");

    /// <summary>One placeholder may not mean two things in one request.</summary>
    private static Dictionary<string, TValue>? Merge<TValue>(Dictionary<string, TValue> first, Dictionary<string, TValue> second)
    {
        var merged = new Dictionary<string, TValue>(first);
        foreach (var (name, value) in second)
        {
            if (!merged.TryAdd(name, value) && !Equals(merged[name], value))
            {
                throw new InvalidOperationException($"Expression placeholder {name} is used for two values.");
            }
        }

        return merged.Count > 0 ? merged : null;
    }

    private DynamoDbWrite<T> Add(TransactWriteItem item, WriteOutcome<T>? whenConditionFails)
    {
        _items.Add(item);
        _whenConditionFails.Add(whenConditionFails);
        return this;
    }
}
