using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using Cpm.Api.Products;
using Cpm.Api.ProductTeams;
using Microsoft.Extensions.Options;
using static Cpm.Api.Storage.DynamoDb.DynamoDbRows;
using static Cpm.Api.Storage.DynamoDb.DynamoDbTable;

namespace Cpm.Api.Storage.DynamoDb;

/// <summary>
/// The DynamoDB store: one table in the existing service's layout. Reads by key are strongly
/// consistent GetItems on the base table, so a write is visible to the next read. A write reads
/// what it checks, then commits one <c>TransactWriteItems</c> whose conditions restate those
/// checks on the rows themselves (alias free, team live and unchanged, product unchanged), so
/// DynamoDB refuses it if another write got in between. The same transaction records its events
/// under the next numbers of the table's sequence row, conditioned on that row's value: the
/// change feed is gapless and in commit order.
/// </summary>
internal sealed partial class DynamoDbStore(IAmazonDynamoDB client, IOptions<StorageOptions> options, ILogger<DynamoDbStore> logger) : ICpmStore, IDisposable
{
    private static readonly TimeSpan WriteDeadline = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMilliseconds(500);

    private readonly string _table = options.Value.DynamoDb.TableName!;
    private readonly SemaphoreSlim _sequenceLock = new(1, 1);

    public Task<ProductTeam?> FindTeamAsync(string idOrAlias, CancellationToken cancellationToken) =>
        ReadAsync(async () =>
        {
            if (!IsStorableKey(idOrAlias) || await GetAsync(TeamKey(idOrAlias), TeamKey(idOrAlias), cancellationToken) is not { } row || !IsActive(row))
            {
                return null;
            }

            if (Is(row, AliasRowType))
            {
                // The alias row is a copy; the team row is the truth.
                var teamKey = TeamKey(TextOrNull(row, IdAttribute)!);
                row = await GetAsync(teamKey, teamKey, cancellationToken);
            }

            return row is not null && Is(row, TeamRowType) && IsActive(row) ? ReadTeam(row) : null;
        }, cancellationToken);

    public Task<IReadOnlyList<ProductTeam>> ListTeamsAsync(string odsCode, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<ProductTeam>>(async () =>
        {
            if (!IsStorableKey(odsCode))
            {
                return [];
            }

            var rows = await QueryLiveAsync(ReadIndex2, PkRead2, OrganisationPrefix + odsCode, SkRead2, TeamPrefix, cancellationToken);
            return [.. rows.Where(row => Is(row, TeamRowType)).Select(ReadTeam).OrderBy(team => team.Id, StringComparer.Ordinal)];
        }, cancellationToken);

    public Task<bool> CreateTeamAsync(ProductTeam team, WriteContext context, CancellationToken cancellationToken) =>
        WriteAsync(_ =>
        {
            var taken = new WriteOutcome<bool>(false);
            var write = new DynamoDbWrite<bool>(_table, true).Put(TeamRow(team), DynamoDbExpression.MustNotExist, taken);
            if (team.Alias is { } alias)
            {
                // Free: never used, or left by a deleted team in place (the existing service's way). A team row is never free.
                var aliasFree = new DynamoDbExpression(
                    $"attribute_not_exists({Pk}) OR (#row_type = :alias_row AND #status <> :active)",
                    new() { ["#row_type"] = RowTypeAttribute, ["#status"] = StatusAttribute },
                    new() { [":alias_row"] = S(AliasRowType), [":active"] = S(EntityStatus.Active) });
                write.Put(AliasRow(team, TeamKey(alias)), aliasFree, taken);
            }

            return Task.FromResult(write.Record(ChangeEvent.TeamCreated(team, context)));
        }, cancellationToken);

    public Task<TeamDeletion> DeleteTeamAsync(string teamId, WriteContext context, CancellationToken cancellationToken) =>
        WriteAsync(async ct =>
        {
            var key = TeamKey(teamId);
            if (!IsStorableKey(teamId) || await GetAsync(key, key, ct) is not { } row || !Is(row, TeamRowType) || !IsActive(row))
            {
                return Nothing(TeamDeletion.NotFound);
            }

            var live = await LiveProductIdsAsync(teamId, ct);
            if (live.Count > 0)
            {
                return Nothing(new TeamDeletion(null, live));
            }

            var deleted = ReadTeam(row).Deleted(context.Now);
            var write = new DynamoDbWrite<TeamDeletion>(_table, new TeamDeletion(deleted, []))
                .Update(Key(key, key), MarkDeleted(deleted.Version, context.Now), UnchangedSinceRead(row, ProductsVersionAttribute), null);
            if (deleted.Alias is { } alias && await GetAsync(TeamKey(alias), TeamKey(alias), ct) is { } aliasRow
                && Is(aliasRow, AliasRowType) && TextOrNull(aliasRow, IdAttribute) == teamId)
            {
                // Frees the alias for a new team: the alias row goes, and a deleted copy stays at PT#<alias>-<epoch ms>.
                var stillOurs = new DynamoDbExpression("#id = :team AND #row_type = :alias_row",
                    new() { ["#id"] = IdAttribute, ["#row_type"] = RowTypeAttribute },
                    new() { [":team"] = S(teamId), [":alias_row"] = S(AliasRowType) });
                write.Delete(Key(TeamKey(alias), TeamKey(alias)), stillOurs, null)
                    .Put(Tombstone(aliasRow, TeamKey(alias), deleted.Version, context.Now), DynamoDbExpression.MustNotExist, null);
            }

            return write.Record(ChangeEvent.TeamDeleted(deleted, context));
        }, cancellationToken);

    public Task<Product?> FindProductAsync(string productId, CancellationToken cancellationToken) =>
        ReadAsync(async () =>
        {
            if (!IsStorableKey(productId))
            {
                return null;
            }

            Dictionary<string, AttributeValue>? row;
            if (await GetAsync(ProductIdKey(productId), ProductIdKey(productId), cancellationToken) is { } issued)
            {
                row = await GetAsync(TeamKey(TextOrNull(issued, TeamIdAttribute)!), ProductKey(productId), cancellationToken);
            }
            else
            {
                // Products the existing service wrote have no id row; they are old enough for index 1 to be current.
                var matches = await QueryAsync(new QueryRequest
                {
                    TableName = _table,
                    IndexName = ReadIndex1,
                    KeyConditionExpression = "#pk = :key AND #sk = :key",
                    ExpressionAttributeNames = new() { ["#pk"] = PkRead1, ["#sk"] = SkRead1 },
                    ExpressionAttributeValues = new() { [":key"] = S(ProductKey(productId)) },
                }, cancellationToken);
                row = matches.FirstOrDefault(match => Is(match, ProductRowType));
            }

            return row is not null && Is(row, ProductRowType) && IsActive(row) ? ReadProduct(row) : null;
        }, cancellationToken);

    public Task<ProductCreation> CreateProductAsync(Product product, WriteContext context, CancellationToken cancellationToken) =>
        WriteAsync(async ct =>
        {
            var teamKey = TeamKey(product.TeamId);
            if (await GetAsync(teamKey, teamKey, ct) is not { } team || !Is(team, TeamRowType) || !IsActive(team))
            {
                return Nothing(ProductCreation.TeamNotFound);
            }

            if (await ProductIdIssuedBeforeAsync(product.Id, ct))
            {
                return Nothing(ProductCreation.ProductIdTaken);
            }

            // Touching the team row both checks it is live and makes a concurrent team delete, conditioned on
            // products_version, fail and look again: the product and the delete never both commit.
            var teamIsLive = new DynamoDbExpression("#row_type = :team_row AND #status = :active",
                new() { ["#row_type"] = RowTypeAttribute, ["#status"] = StatusAttribute },
                new() { [":team_row"] = S(TeamRowType), [":active"] = S(EntityStatus.Active) });
            var countProduct = new DynamoDbExpression("ADD #products_version :one", new() { ["#products_version"] = ProductsVersionAttribute }, new() { [":one"] = N(1) });
            var idTaken = new WriteOutcome<ProductCreation>(ProductCreation.ProductIdTaken);
            return new DynamoDbWrite<ProductCreation>(_table, ProductCreation.Created)
                .Update(Key(teamKey, teamKey), countProduct, teamIsLive, new WriteOutcome<ProductCreation>(ProductCreation.TeamNotFound))
                .Put(ProductRow(product), DynamoDbExpression.MustNotExist, idTaken)
                .Put(ProductIdRow(product), DynamoDbExpression.MustNotExist, idTaken)
                .Record(ChangeEvent.ProductCreated(product, context));
        }, cancellationToken);

    public Task<Product?> DeleteProductAsync(string teamId, string productId, WriteContext context, CancellationToken cancellationToken) =>
        WriteAsync(async ct =>
        {
            var key = Key(TeamKey(teamId), ProductKey(productId));
            if (!IsStorableKey(teamId) || !IsStorableKey(productId) || await GetAsync(key, ct) is not { } row || !Is(row, ProductRowType) || !IsActive(row))
            {
                return Nothing<Product?>(null);
            }

            var deleted = ReadProduct(row).Deleted(context.Now);
            return new DynamoDbWrite<Product?>(_table, deleted)
                .Update(key, MarkProductDeleted(deleted.Version, context.Now), UnchangedSinceRead(row), null)
                .Record(ChangeEvent.ProductDeleted(deleted, context));
        }, cancellationToken);

    public Task<IReadOnlyList<Product>> FindProductsAsync(ProductFilter filter, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<Product>>(async () =>
        {
            if (filter.TeamId is { } teamId)
            {
                if (!IsStorableKey(teamId))
                {
                    return [];
                }

                var rows = await QueryLiveAsync(null, Pk, TeamKey(teamId), Sk, ProductPrefix, cancellationToken);
                return [.. rows.Where(row => Is(row, ProductRowType)).Select(ReadProduct).OrderBy(product => product.Id, StringComparer.Ordinal)];
            }

            if (!IsStorableKey(filter.OdsCode!))
            {
                return [];
            }

            var organisation = await QueryLiveAsync(ReadIndex2, PkRead2, OrganisationPrefix + filter.OdsCode, SkRead2, ProductPrefix, cancellationToken);
            return
            [
                .. organisation.Where(row => Is(row, ProductRowType)).Select(ReadProduct)
                    .OrderBy(product => product.TeamId, StringComparer.Ordinal)
                    .ThenBy(product => product.Id, StringComparer.Ordinal),
            ];
        }, cancellationToken);

    public Task PingAsync(CancellationToken cancellationToken) =>
        ReadAsync(() => GetAsync(SequenceKey, SequenceKey, cancellationToken), cancellationToken);

    public void Dispose() => _sequenceLock.Dispose();

    private static bool IsStorableKey(string value) => Encoding.UTF8.GetByteCount(value) <= MaxKeyBytes;

    private static DynamoDbWrite<T> Nothing<T>(T result) => new(string.Empty, result);

    /// <summary>As the existing service did, a deleted product carries <c>keys: []</c> (its live rows had none).</summary>
    private static DynamoDbExpression MarkProductDeleted(long version, DateTimeOffset now)
    {
        var deleted = MarkDeleted(version, now);
        return new DynamoDbExpression(
            deleted.Text + ", #keys = if_not_exists(#keys, :no_keys)",
            new(deleted.Names) { ["#keys"] = "keys" },
            new(deleted.Values) { [":no_keys"] = new AttributeValue { L = [] } });
    }

    private static DynamoDbExpression MarkDeleted(long version, DateTimeOffset now) => new(
        "SET #status = :inactive, #updated_on = :now, #deleted_on = :now, #version = :version",
        new() { ["#status"] = StatusAttribute, ["#updated_on"] = UpdatedOnAttribute, ["#deleted_on"] = DeletedOnAttribute, ["#version"] = VersionAttribute },
        new() { [":inactive"] = S(EntityStatus.Inactive), [":now"] = Time(now), [":version"] = N(version) });

    /// <summary>The row is still live and its counters are what this write read (absent stays absent).</summary>
    private static DynamoDbExpression UnchangedSinceRead(Dictionary<string, AttributeValue> row, params string[] counters)
    {
        var names = new Dictionary<string, string> { ["#status"] = StatusAttribute };
        var values = new Dictionary<string, AttributeValue> { [":active"] = S(EntityStatus.Active) };
        var text = new StringBuilder("#status = :active");
        foreach (var counter in counters.Prepend(VersionAttribute))
        {
            names["#" + counter] = counter;
            if (NumberOrNull(row, counter) is { } seen)
            {
                values[":seen_" + counter] = N(seen);
                text.Append($" AND #{counter} = :seen_{counter}");
            }
            else
            {
                text.Append($" AND attribute_not_exists(#{counter})");
            }
        }

        return new DynamoDbExpression(text.ToString(), names, values);
    }

    private static Dictionary<string, AttributeValue> Tombstone(Dictionary<string, AttributeValue> aliasRow, string aliasKey, long version, DateTimeOffset now)
    {
        var key = $"{aliasKey}-{now.ToUnixTimeMilliseconds()}";
        return new Dictionary<string, AttributeValue>(aliasRow)
        {
            [Pk] = S(key),
            [Sk] = S(key),
            [PkRead1] = S(key),
            [SkRead1] = S(key),
            [StatusAttribute] = S(EntityStatus.Inactive),
            [UpdatedOnAttribute] = Time(now),
            [DeletedOnAttribute] = Time(now),
            [VersionAttribute] = N(version),
        };
    }

    private Task<Dictionary<string, AttributeValue>?> GetAsync(string pk, string sk, CancellationToken cancellationToken) =>
        GetAsync(Key(pk, sk), cancellationToken);

    private async Task<Dictionary<string, AttributeValue>?> GetAsync(Dictionary<string, AttributeValue> key, CancellationToken cancellationToken)
    {
        var response = await client.GetItemAsync(new GetItemRequest { TableName = _table, Key = key, ConsistentRead = true }, cancellationToken);
        return response.Item is { Count: > 0 } item ? item : null;
    }

    /// <summary>Rows under one partition key whose sort key starts with a prefix, live ones only; consistent on the base table.</summary>
    private Task<List<Dictionary<string, AttributeValue>>> QueryLiveAsync(string? index, string pkName, string pk, string skName, string skPrefix, CancellationToken cancellationToken) =>
        QueryAsync(new QueryRequest
        {
            TableName = _table,
            IndexName = index,
            ConsistentRead = index is null,
            KeyConditionExpression = "#pk = :pk AND begins_with(#sk, :prefix)",
            FilterExpression = "#status = :active",
            ExpressionAttributeNames = new() { ["#pk"] = pkName, ["#sk"] = skName, ["#status"] = StatusAttribute },
            ExpressionAttributeValues = new() { [":pk"] = S(pk), [":prefix"] = S(skPrefix), [":active"] = S(EntityStatus.Active) },
        }, cancellationToken);

    /// <summary>Every page: a query answers at most 1 MB at a time.</summary>
    private async Task<List<Dictionary<string, AttributeValue>>> QueryAsync(QueryRequest request, CancellationToken cancellationToken)
    {
        var rows = new List<Dictionary<string, AttributeValue>>();
        do
        {
            var response = await client.QueryAsync(request, cancellationToken);
            rows.AddRange(response.Items ?? []);
            request.ExclusiveStartKey = response.LastEvaluatedKey is { Count: > 0 } next ? next : null;
        }
        while (request.ExclusiveStartKey is not null);

        return rows;
    }

    private async Task<IReadOnlyList<string>> LiveProductIdsAsync(string teamId, CancellationToken cancellationToken)
    {
        var rows = await QueryLiveAsync(null, Pk, TeamKey(teamId), Sk, ProductPrefix, cancellationToken);
        return [.. rows.Where(row => Is(row, ProductRowType)).Select(row => TextOrNull(row, IdAttribute)!).Order(StringComparer.Ordinal)];
    }

    /// <summary>An id the existing service issued has no id row, but index 1 knows it (index lag cannot matter for old rows).</summary>
    private async Task<bool> ProductIdIssuedBeforeAsync(string productId, CancellationToken cancellationToken)
    {
        var response = await client.QueryAsync(new QueryRequest
        {
            TableName = _table,
            IndexName = ReadIndex1,
            KeyConditionExpression = "#pk = :key",
            ExpressionAttributeNames = new() { ["#pk"] = PkRead1 },
            ExpressionAttributeValues = new() { [":key"] = S(ProductKey(productId)) },
            Limit = 1,
        }, cancellationToken);
        return response.Items is { Count: > 0 };
    }

    private async Task<long> ReadSequenceAsync(CancellationToken cancellationToken) =>
        await GetAsync(SequenceKey, SequenceKey, cancellationToken) is { } row ? NumberOrNull(row, LastSequenceAttribute) ?? 0 : 0;

    private static async Task<T> ReadAsync<T>(Func<Task<T>> read, CancellationToken cancellationToken)
    {
        try
        {
            return await read();
        }
        catch (Exception failure) when (IsStoreFailure(failure, cancellationToken))
        {
            throw Unavailable(failure);
        }
    }

    /// <summary>
    /// Let <paramref name="prepare"/> read and plan, then commit: a cancelled commit whose failed
    /// condition answers the request returns that answer; one that only met a newer sequence
    /// number (another instance wrote) commits again at once; anything else reads again after a
    /// jittered backoff, for a bounded time.
    /// </summary>
    private async Task<T> WriteAsync<T>(Func<CancellationToken, Task<DynamoDbWrite<T>>> prepare, CancellationToken cancellationToken)
    {
        var elapsed = Stopwatch.StartNew();
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var write = await prepare(cancellationToken);
                if (write.WritesNothing)
                {
                    return write.Result;
                }

                if (await CommitAsync(write, elapsed, cancellationToken) is { } outcome)
                {
                    return outcome.Value;
                }
            }
            catch (Exception failure) when (IsStoreFailure(failure, cancellationToken))
            {
                throw Unavailable(failure);
            }

            ThrowIfPastDeadline(elapsed);

            // Full jitter: contenders spread out instead of colliding again in step.
            var ceiling = Math.Min(MaxBackoff.TotalMilliseconds, 10 * Math.Pow(2, Math.Min(attempt, 10)));
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * ceiling), cancellationToken);
        }
    }

    /// <summary>
    /// One writer at a time per instance takes the next sequence numbers: writes of one instance
    /// queue here instead of cancelling each other on the sequence row. Null: read again and retry.
    /// </summary>
    private async Task<WriteOutcome<T>?> CommitAsync<T>(DynamoDbWrite<T> write, Stopwatch elapsed, CancellationToken cancellationToken)
    {
        await _sequenceLock.WaitAsync(cancellationToken);
        try
        {
            while (true)
            {
                var sequence = await ReadSequenceAsync(cancellationToken);
                try
                {
                    await client.TransactWriteItemsAsync(write.ToRequest(sequence), cancellationToken);
                    return new WriteOutcome<T>(write.Result);
                }
                catch (TransactionCanceledException cancelled) when (DynamoDbWrite<T>.IsTransient(cancelled))
                {
                    LogCancelled(string.Join(", ", (cancelled.CancellationReasons ?? []).Select(reason => reason.Code)));
                    if (write.OutcomeOf(cancelled) is { } outcome)
                    {
                        return outcome;
                    }

                    if (!write.OnlySequenceMoved(cancelled))
                    {
                        return null;
                    }

                    ThrowIfPastDeadline(elapsed);
                }
            }
        }
        finally
        {
            _sequenceLock.Release();
        }
    }

    private static void ThrowIfPastDeadline(Stopwatch elapsed)
    {
        if (elapsed.Elapsed > WriteDeadline)
        {
            throw new StorageUnavailableException($"DynamoDB: the write kept meeting concurrent writes for {WriteDeadline.TotalSeconds:0} s; try again.");
        }
    }

    /// <summary>Failures of the store itself (AWS errors, network, SDK timeouts), as opposed to a caller going away.</summary>
    private static bool IsStoreFailure(Exception failure, CancellationToken cancellationToken) =>
        failure is OperationCanceledException
            ? !cancellationToken.IsCancellationRequested
            : failure is AmazonServiceException or AmazonClientException or HttpRequestException or IOException or SocketException or TimeoutException;

    private static StorageUnavailableException Unavailable(Exception failure) => new($"DynamoDB is unavailable: {failure.Message}", failure);

    [LoggerMessage(Level = LogLevel.Debug, Message = "DynamoDB transaction cancelled: {Reasons}")]
    private partial void LogCancelled(string reasons);
}
