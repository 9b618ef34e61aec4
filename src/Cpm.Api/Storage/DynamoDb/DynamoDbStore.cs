using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using Cpm.Api.Entities;
using Cpm.Api.Products;
using Cpm.Api.ProductTeams;
using Microsoft.Extensions.Options;
using ZLogger;
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

    // An organisation's teams are read this many at a time while walking their products.
    private const int TeamPage = 100;

    // An organisation with fewer product rows (live or deleted) is searched in one Query; a larger
    // one is walked, after reading at most this many rows in vain.
    private const int OrganisationInOneQuery = 500;

    /// <summary>Free: never used, or left by a deleted team in place (the existing service's way). A team row is never free.</summary>
    private static readonly DynamoDbExpression AliasFree = new(
        $"attribute_not_exists({Pk}) OR (#row_type = :alias_row AND #status <> :active)",
        new() { ["#row_type"] = RowTypeAttribute, ["#status"] = StatusAttribute },
        new() { [":alias_row"] = S(AliasRowType), [":active"] = S(EntityStatus.Active) });

    private static readonly DynamoDbExpression TeamIsLive = new("#row_type = :team_row AND #status = :active",
        new() { ["#row_type"] = RowTypeAttribute, ["#status"] = StatusAttribute },
        new() { [":team_row"] = S(TeamRowType), [":active"] = S(EntityStatus.Active) });

    /// <summary>
    /// On the team row with every product create or restore: it both checks the team is live and
    /// makes a concurrent team delete, conditioned on products_version, fail and look again, so a
    /// live product never ends up under a deleted team.
    /// </summary>
    private static readonly DynamoDbExpression CountProduct =
        new("ADD #products_version :one", new() { ["#products_version"] = ProductsVersionAttribute }, new() { [":one"] = N(1) });

    /// <summary>A condition on a product id row: free, or already this team's product's (a legacy id used in two teams keeps its first).</summary>
    private static DynamoDbExpression IdRowOf(string teamId) => new(
        $"attribute_not_exists({Pk}) OR #team = :team",
        new() { ["#team"] = TeamIdAttribute },
        new() { [":team"] = S(teamId) });

    private readonly string _table = options.Value.DynamoDb.TableName!;
    private readonly SemaphoreSlim _sequenceLock = new(1, 1);

    // The highest sequence number this instance has seen committed: a lower bound of the row's value.
    private long _sequenceSeen;

    // Seen on the sequence row (set once, never cleared): id rows' copies of products may be served.
    private volatile bool _takenOver;

    /// <summary>
    /// One GetItem: the alias row carries the team's fields, and every writer (this service and
    /// the existing one) changes it in the same transaction as the team row, so it is served as it is.
    /// </summary>
    public Task<ProductTeam?> FindTeamAsync(string idOrAlias, CancellationToken cancellationToken) =>
        CallAsync(async () =>
            IsStorableKey(idOrAlias) && await GetAsync(TeamKey(idOrAlias), TeamKey(idOrAlias), cancellationToken) is { } row
                && (Is(row, TeamRowType) || Is(row, AliasRowType)) && IsActive(row)
                ? ReadTeam(row)
                : null, cancellationToken);

    public Task<ProductTeam?> GetTeamAsync(string teamId, CancellationToken cancellationToken) =>
        CallAsync(async () => await GetTeamRowAsync(teamId, cancellationToken) is { } row ? ReadTeam(row) : null, cancellationToken);

    public Task<IReadOnlyList<ProductTeam>> ListTeamsAsync(string odsCode, string? afterTeamId, int? limit, CancellationToken cancellationToken) =>
        CallAsync<IReadOnlyList<ProductTeam>>(async () =>
        {
            var teams = new List<ProductTeam>();
            if (!IsStorableKey(odsCode))
            {
                return teams;
            }

            var rows = RangeAsync(ReadIndex2, PkRead2, OrganisationPrefix + odsCode, SkRead2, TeamPrefix, afterTeamId, liveOnly: true, limit + 1, cancellationToken);
            await foreach (var row in rows)
            {
                if (Is(row, TeamRowType) && row[SkRead2].S != TeamKey(afterTeamId ?? ""))
                {
                    teams.Add(ReadTeam(row));
                    if (teams.Count == limit)
                    {
                        break;
                    }
                }
            }

            return teams;
        }, cancellationToken);

    public Task<bool> CreateTeamAsync(ProductTeam team, WriteContext context, CancellationToken cancellationToken) =>
        WriteAsync(context, _ =>
        {
            var taken = new WriteOutcome<bool>(false);
            var write = new DynamoDbWrite<bool>(_table, true).Put(TeamRow(team), DynamoDbExpression.MustNotExist, taken);
            if (team.Alias is { } alias)
            {
                write.Put(AliasRow(team, TeamKey(alias)), AliasFree, taken);
            }

            return Task.FromResult(write.Record(ChangeEvent.TeamCreated(team, context)));
        }, cancellationToken);

    /// <summary>
    /// Reads the team row with the sequence row (one call), then its live products (the team row
    /// first: a product created in between moves its <c>products_version</c>, which the commit
    /// checks). The alias row is neither read nor checked beforehand: its delete is conditioned on
    /// still being this team's, and only if that fails does the next attempt read it.
    /// </summary>
    public Task<TeamDeletion> DeleteTeamAsync(string teamId, WriteContext context, CancellationToken cancellationToken)
    {
        var readAliasFirst = false;
        var tombstoneLater = 0;
        return WriteAsync(context, async ct =>
        {
            var key = TeamKey(teamId);
            if (!IsStorableKey(teamId) || await GetWithSequenceAsync(Key(key, key), ct) is not ({ } row, var sequence) || !Is(row, TeamRowType) || !IsActive(row))
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
                .Update(Key(key, key), MarkDeleted(deleted.Version, context.Now), UnchangedSinceRead(row, EntityStatus.Active, ProductsVersionAttribute), null);
            if (deleted.Alias is { } alias && (!readAliasFirst || await OwnAliasRowAsync(deleted, ct) is not null))
            {
                // Frees the alias for a new team: the alias row goes, and a deleted copy stays at
                // PT#<alias>-<epoch ms>, a millisecond later while that is taken (the same alias deleted twice within one).
                var aliasKey = TeamKey(alias);
                var tombstoneKey = $"{aliasKey}-{context.Now.ToUnixTimeMilliseconds() + tombstoneLater}";
                write.Delete(Key(aliasKey, aliasKey), StillAliasOf(teamId), null).OnConditionFailed(() => readAliasFirst = true)
                    .Put(AliasRow(deleted, tombstoneKey), DynamoDbExpression.MustNotExist, null).OnConditionFailed(() => tombstoneLater++);
            }

            return write.Record(ChangeEvent.TeamDeleted(deleted, context)).AtSequence(sequence);
        }, cancellationToken);
    }

    public Task<bool> RenameTeamAsync(ProductTeam renamed, long expectedVersion, WriteContext context, CancellationToken cancellationToken) =>
        WriteAsync(context, async ct =>
        {
            var row = await GetTeamRowAsync(renamed.Id, ct);
            var current = row is not null && IsActive(row) ? ReadTeam(row) : null;
            if (current is null || current.Version != expectedVersion)
            {
                return Nothing(false);
            }

            // The alias row copies the team's fields, so reads through the alias see the new name too.
            var write = new DynamoDbWrite<bool>(_table, true).Set(row!, State(renamed), UnchangedSinceRead(row!, EntityStatus.Active), new WriteOutcome<bool>(false));
            if (await OwnAliasRowAsync(current, ct) is { } aliasRow)
            {
                write.Set(aliasRow, State(renamed), StillAliasOf(renamed.Id), null);
            }

            return write.Record(ChangeEvent.TeamRenamed(current, renamed, context));
        }, cancellationToken);

    public Task<Restoration> RestoreTeamAsync(ProductTeam restored, long expectedVersion, WriteContext context, CancellationToken cancellationToken) =>
        WriteAsync(context, async ct =>
        {
            if (await GetTeamRowAsync(restored.Id, ct) is not { } row || IsActive(row) || ReadTeam(row).Version != expectedVersion)
            {
                return Nothing(Restoration.VersionChanged);
            }

            var write = new DynamoDbWrite<Restoration>(_table, Restoration.Restored)
                .Set(row, State(restored), UnchangedSinceRead(row, EntityStatus.Inactive), new WriteOutcome<Restoration>(Restoration.VersionChanged));
            if (restored.Alias is { } alias)
            {
                // The alias comes back only if it is still free: a live team holding it cancels the restore.
                write.Put(AliasRow(restored, TeamKey(alias)), AliasFree, new WriteOutcome<Restoration>(Restoration.AliasTaken));
            }

            return write.Record(ChangeEvent.TeamRestored(restored, context));
        }, cancellationToken);

    public Task<Product?> FindProductAsync(string productId, CancellationToken cancellationToken) =>
        CallAsync(async () => await ReadProductAsync(productId, cancellationToken) is { IsActive: true } product ? product : null, cancellationToken);

    public Task<Product?> GetProductAsync(string productId, CancellationToken cancellationToken) =>
        CallAsync(() => ReadProductAsync(productId, cancellationToken), cancellationToken);

    /// <summary>
    /// Reads the sequence row first: it says whether the table is taken over (every product
    /// issued has an id row), and saves reading it again at commit. Until then, ids the existing
    /// service issued have no id row: index 1 knows them (they are old, so index lag cannot matter).
    /// </summary>
    public Task<ProductCreation> CreateProductAsync(Product product, WriteContext context, CancellationToken cancellationToken) =>
        WriteAsync(context, async ct =>
        {
            var sequence = await ReadSequenceAsync(ct);
            if (!_takenOver && await ProductIdIssuedBeforeAsync(product.Id, ct))
            {
                return Nothing(ProductCreation.ProductIdTaken);
            }

            // Whether the team is live is left to the transaction's condition on the team row.
            var teamKey = TeamKey(product.TeamId);
            var idTaken = new WriteOutcome<ProductCreation>(ProductCreation.ProductIdTaken);
            return new DynamoDbWrite<ProductCreation>(_table, ProductCreation.Created)
                .Update(Key(teamKey, teamKey), CountProduct, TeamIsLive, new WriteOutcome<ProductCreation>(ProductCreation.TeamNotFound))
                .Put(ProductRow(product), DynamoDbExpression.MustNotExist, idTaken)
                .Put(ProductIdRow(product), DynamoDbExpression.MustNotExist, idTaken)
                .Record(ChangeEvent.ProductCreated(product, context))
                .AtSequence(sequence);
        }, cancellationToken);

    /// <summary>The product row and the sequence row in one call; the id row's copy is rewritten with the product.</summary>
    public Task<Product?> DeleteProductAsync(string teamId, string productId, WriteContext context, CancellationToken cancellationToken)
    {
        var idRowElsewhere = false;
        return WriteAsync(context, async ct =>
        {
            var key = Key(TeamKey(teamId), ProductKey(productId));
            if (!IsStorableKey(teamId) || !IsStorableKey(productId) || await GetWithSequenceAsync(key, ct) is not ({ } row, var sequence)
                || !Is(row, ProductRowType) || !IsActive(row))
            {
                return Nothing<Product?>(null);
            }

            var deleted = ReadProduct(row).Deleted(context.Now);
            var write = new DynamoDbWrite<Product?>(_table, deleted)
                .Update(key, MarkProductDeleted(deleted.Version, context.Now), UnchangedSinceRead(row, EntityStatus.Active), null);
            return CopyToIdRow(write, deleted, idRowElsewhere, () => idRowElsewhere = true)
                .Record(ChangeEvent.ProductDeleted(deleted, context))
                .AtSequence(sequence);
        }, cancellationToken);
    }

    public Task<bool> RenameProductAsync(Product renamed, long expectedVersion, WriteContext context, CancellationToken cancellationToken)
    {
        var idRowElsewhere = false;
        return WriteAsync(context, async ct =>
        {
            var row = await GetProductRowAsync(renamed.Id, ct);
            var current = row is not null && IsActive(row) ? ReadProduct(row) : null;
            if (current is null || current.Version != expectedVersion)
            {
                return Nothing(false);
            }

            var write = new DynamoDbWrite<bool>(_table, true)
                .Set(row!, State(renamed), UnchangedSinceRead(row!, EntityStatus.Active), new WriteOutcome<bool>(false));
            return CopyToIdRow(write, renamed, idRowElsewhere, () => idRowElsewhere = true)
                .Record(ChangeEvent.ProductRenamed(current, renamed, context));
        }, cancellationToken);
    }

    public Task<Restoration> RestoreProductAsync(Product restored, long expectedVersion, WriteContext context, CancellationToken cancellationToken)
    {
        var idRowElsewhere = false;
        return WriteAsync(context, async ct =>
        {
            if (await GetProductRowAsync(restored.Id, ct) is not { } row || IsActive(row) || ReadProduct(row).Version != expectedVersion)
            {
                return Nothing(Restoration.VersionChanged);
            }

            // The product's condition comes first, so a changed product answers before a deleted team.
            // A live product is new to a team delete that already read the team's products: counting
            // it, as a create does, makes such a delete fail and look again.
            var teamKey = TeamKey(restored.TeamId);
            var write = new DynamoDbWrite<Restoration>(_table, Restoration.Restored)
                .Set(row, State(restored), UnchangedSinceRead(row, EntityStatus.Inactive), new WriteOutcome<Restoration>(Restoration.VersionChanged))
                .Update(Key(teamKey, teamKey), CountProduct, TeamIsLive, new WriteOutcome<Restoration>(Restoration.TeamDeleted));
            return CopyToIdRow(write, restored, idRowElsewhere, () => idRowElsewhere = true)
                .Record(ChangeEvent.ProductRestored(restored, context));
        }, cancellationToken);
    }

    public Task<IReadOnlyList<Product>> FindProductsAsync(ProductFilter filter, ProductPosition? after, int? limit, CancellationToken cancellationToken) =>
        CallAsync<IReadOnlyList<Product>>(async () =>
        {
            var found = new List<Product>();
            if (filter.TeamId is { } teamId)
            {
                if (IsStorableKey(teamId) && ProductPosition.ResumeInTeam(after, teamId) is { } afterProduct)
                {
                    await AddLiveProductsAsync(found, teamId, afterProduct.Length == 0 ? null : afterProduct, limit, cancellationToken);
                }

                return found;
            }

            if (!IsStorableKey(filter.OdsCode))
            {
                return found;
            }

            // A first page tries one Query; a walk that has a cursor already met more than a page.
            if (after is null && await OrganisationProductsAsync(filter.OdsCode, cancellationToken) is { Walk: false } all)
            {
                found.AddRange(all.Products
                    .OrderBy(product => product.TeamId, StringComparer.Ordinal)
                    .ThenBy(product => product.Id, StringComparer.Ordinal)
                    .Take(limit ?? int.MaxValue));
                return found;
            }

            // (team id, product id) order: the organisation's teams by id from index 2, each team's
            // products by id from the base table (consistent). Deleted teams are walked too: a live
            // product always belongs to a live team, but the index may not show a restore yet.
            var teams = RangeAsync(ReadIndex2, PkRead2, OrganisationPrefix + filter.OdsCode, SkRead2, TeamPrefix, after?.TeamId, liveOnly: false, TeamPage, cancellationToken);
            await foreach (var team in teams)
            {
                if (!Is(team, TeamRowType))
                {
                    continue;
                }

                var id = TextOrNull(team, IdAttribute)!;
                await AddLiveProductsAsync(found, id, id == after?.TeamId ? after.ProductId : null, limit, cancellationToken);
                if (found.Count == limit)
                {
                    break;
                }
            }

            return found;
        }, cancellationToken);

    public Task PingAsync(CancellationToken cancellationToken) =>
        CallAsync(() => ReadSequenceAsync(cancellationToken), cancellationToken);

    public void Dispose() => _sequenceLock.Dispose();

    private static bool IsStorableKey(string value) => Encoding.UTF8.GetByteCount(value) <= MaxKeyBytes;

    private static DynamoDbWrite<T> Nothing<T>(T result) => new(string.Empty, result);

    private static DynamoDbExpression StillAliasOf(string teamId) => new("#id = :team AND #row_type = :alias_row",
        new() { ["#id"] = IdAttribute, ["#row_type"] = RowTypeAttribute },
        new() { [":team"] = S(teamId), [":alias_row"] = S(AliasRowType) });

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

    /// <summary>The row still has the status this write read, and the version and counters it read (absent stays absent).</summary>
    private static DynamoDbExpression UnchangedSinceRead(Dictionary<string, AttributeValue> row, string status, params string[] counters)
    {
        var names = new Dictionary<string, string> { ["#status"] = StatusAttribute };
        var values = new Dictionary<string, AttributeValue> { [":seen_status"] = S(status) };
        var text = new StringBuilder("#status = :seen_status");
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

    private async Task<Dictionary<string, AttributeValue>?> GetTeamRowAsync(string teamId, CancellationToken cancellationToken) =>
        IsStorableKey(teamId) && await GetAsync(TeamKey(teamId), TeamKey(teamId), cancellationToken) is { } row && Is(row, TeamRowType) ? row : null;

    /// <summary>The alias row of a team, if it still points at the team.</summary>
    private async Task<Dictionary<string, AttributeValue>?> OwnAliasRowAsync(ProductTeam team, CancellationToken cancellationToken) =>
        team.Alias is { } alias && await GetAsync(TeamKey(alias), TeamKey(alias), cancellationToken) is { } row
            && Is(row, AliasRowType) && TextOrNull(row, IdAttribute) == team.Id
            ? row
            : null;

    /// <summary>
    /// One GetItem of the id row, served as it is once the table is taken over (every writer keeps
    /// its copy); before that, or for an id row written before it carried the product, the product
    /// row as well.
    /// </summary>
    private async Task<Product?> ReadProductAsync(string productId, CancellationToken cancellationToken)
    {
        if (!IsStorableKey(productId))
        {
            return null;
        }

        var issued = await GetAsync(ProductIdKey(productId), ProductIdKey(productId), cancellationToken);
        if (_takenOver && (issued is null || CarriesProduct(issued)))
        {
            return issued is null ? null : ReadProduct(issued);
        }

        return await GetProductRowAsync(productId, issued, cancellationToken) is { } row ? ReadProduct(row) : null;
    }

    /// <summary>The product row itself, for a write to check.</summary>
    private async Task<Dictionary<string, AttributeValue>?> GetProductRowAsync(string productId, CancellationToken cancellationToken) =>
        IsStorableKey(productId) ? await GetProductRowAsync(productId, await GetAsync(ProductIdKey(productId), ProductIdKey(productId), cancellationToken), cancellationToken) : null;

    /// <summary>Via the product id row; products the existing service wrote have none, and are old enough for index 1 to be current.</summary>
    private async Task<Dictionary<string, AttributeValue>?> GetProductRowAsync(string productId, Dictionary<string, AttributeValue>? issued, CancellationToken cancellationToken)
    {
        Dictionary<string, AttributeValue>? row;
        if (issued is not null)
        {
            row = await GetAsync(TeamKey(TextOrNull(issued, TeamIdAttribute)!), ProductKey(productId), cancellationToken);
        }
        else
        {
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

        return row is not null && Is(row, ProductRowType) ? row : null;
    }

    /// <summary>A team's live products after <paramref name="afterProductId"/> in id order, until <paramref name="found"/> holds <paramref name="limit"/>.</summary>
    private async Task AddLiveProductsAsync(List<Product> found, string teamId, string? afterProductId, int? limit, CancellationToken cancellationToken)
    {
        var rows = RangeAsync(null, Pk, TeamKey(teamId), Sk, ProductPrefix, afterProductId, liveOnly: true, limit - found.Count + 1, cancellationToken);
        await foreach (var row in rows)
        {
            if (Is(row, ProductRowType) && row[Sk].S != ProductKey(afterProductId ?? ""))
            {
                found.Add(ReadProduct(row));
                if (found.Count == limit)
                {
                    return;
                }
            }
        }
    }

    private Task<Dictionary<string, AttributeValue>?> GetAsync(string pk, string sk, CancellationToken cancellationToken) =>
        GetAsync(Key(pk, sk), cancellationToken);

    private async Task<Dictionary<string, AttributeValue>?> GetAsync(Dictionary<string, AttributeValue> key, CancellationToken cancellationToken)
    {
        var response = await client.GetItemAsync(new GetItemRequest { TableName = _table, Key = key, ConsistentRead = true }, cancellationToken);
        return response.Item is { Count: > 0 } item ? item : null;
    }

    /// <summary>A row and the sequence row in one consistent BatchGetItem; keys DynamoDB hands back unread (throttling) are asked for again.</summary>
    private async Task<(Dictionary<string, AttributeValue>? Row, long Sequence)> GetWithSequenceAsync(Dictionary<string, AttributeValue> key, CancellationToken cancellationToken)
    {
        var found = new List<Dictionary<string, AttributeValue>>();
        var pending = new Dictionary<string, KeysAndAttributes> { [_table] = new() { Keys = [key, Key(SequenceKey, SequenceKey)], ConsistentRead = true } };
        for (var attempt = 0; pending.Count > 0; attempt++)
        {
            if (attempt > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(MaxBackoff.TotalMilliseconds, 10 * Math.Pow(2, attempt))), cancellationToken);
            }

            var response = await client.BatchGetItemAsync(new BatchGetItemRequest { RequestItems = pending }, cancellationToken);
            found.AddRange(response.Responses?.GetValueOrDefault(_table) ?? []);
            pending = response.UnprocessedKeys is { Count: > 0 } unread ? unread : [];
        }

        var sequence = found.FirstOrDefault(row => row[Pk].S == SequenceKey);
        var rowFound = found.FirstOrDefault(row => row[Pk].S == key[Pk].S && row[Sk].S == key[Sk].S);
        return (rowFound, SeenSequence(sequence));
    }

    /// <summary>
    /// One partition's rows whose sort key starts with <paramref name="prefix"/>, from
    /// <c>prefix + from</c> (inclusive) in sort key order, read <paramref name="pageSize"/> at a
    /// time so a caller that has enough stops reading. Consistent on the base table.
    /// </summary>
    private async IAsyncEnumerable<Dictionary<string, AttributeValue>> RangeAsync(
        string? index, string pkName, string pk, string skName, string prefix, string? from, bool liveOnly, int? pageSize,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var names = new Dictionary<string, string> { ["#pk"] = pkName, ["#sk"] = skName };
        var values = new Dictionary<string, AttributeValue>
        {
            [":pk"] = S(pk),
            [":from"] = S(prefix + from),
            // Every key with the prefix sorts below the prefix with its last character raised by one.
            [":to"] = S(prefix[..^1] + (char)(prefix[^1] + 1)),
        };
        if (liveOnly)
        {
            names["#status"] = StatusAttribute;
            values[":active"] = S(EntityStatus.Active);
        }

        var request = new QueryRequest
        {
            TableName = _table,
            IndexName = index,
            ConsistentRead = index is null,
            KeyConditionExpression = "#pk = :pk AND #sk BETWEEN :from AND :to",
            FilterExpression = liveOnly ? "#status = :active" : null,
            ExpressionAttributeNames = names,
            ExpressionAttributeValues = values,
            Limit = pageSize,
        };
        do
        {
            var response = await client.QueryAsync(request, cancellationToken);
            foreach (var row in response.Items ?? [])
            {
                yield return row;
            }

            request.ExclusiveStartKey = response.LastEvaluatedKey is { Count: > 0 } next ? next : null;
        }
        while (request.ExclusiveStartKey is not null);
    }

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
        var live = new List<string>();
        await foreach (var row in RangeAsync(null, Pk, TeamKey(teamId), Sk, ProductPrefix, null, liveOnly: true, null, cancellationToken))
        {
            if (Is(row, ProductRowType))
            {
                live.Add(TextOrNull(row, IdAttribute)!);
            }
        }

        return live;
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
        SeenSequence(await GetAsync(SequenceKey, SequenceKey, cancellationToken));

    /// <summary>The last sequence number on the sequence row (0 when absent), noting whether the table is taken over.</summary>
    private long SeenSequence(Dictionary<string, AttributeValue>? row)
    {
        if (row is not null && row.TryGetValue(TakenOverAttribute, out var takenOver) && takenOver.BOOL == true)
        {
            _takenOver = true;
        }

        return row is null ? 0 : NumberOrNull(row, LastSequenceAttribute) ?? 0;
    }

    /// <summary>
    /// Every change to a product rewrites its id row's copy in the same transaction. The id row of
    /// a product the existing service wrote is made here if it has none; a legacy id that two teams
    /// used keeps the first team's id row (<paramref name="elsewhere"/>, learnt when the condition fails).
    /// </summary>
    private static DynamoDbWrite<T> CopyToIdRow<T>(DynamoDbWrite<T> write, Product product, bool elsewhere, Action onElsewhere) =>
        elsewhere ? write : write.Put(ProductIdRow(product), IdRowOf(product.TeamId), null).OnConditionFailed(onElsewhere);

    /// <summary>
    /// An organisation's live products from index 2 in one Query, as the existing service reads
    /// them; <c>Walk</c> when the Query stopped at its limit (a large organisation): then its teams
    /// are walked instead, so a page of a search never reads the whole organisation.
    /// </summary>
    private async Task<(IReadOnlyList<Product> Products, bool Walk)> OrganisationProductsAsync(string odsCode, CancellationToken cancellationToken)
    {
        var response = await client.QueryAsync(new QueryRequest
        {
            TableName = _table,
            IndexName = ReadIndex2,
            KeyConditionExpression = "#pk = :pk AND #sk BETWEEN :from AND :to",
            FilterExpression = "#status = :active",
            ExpressionAttributeNames = new() { ["#pk"] = PkRead2, ["#sk"] = SkRead2, ["#status"] = StatusAttribute },
            Limit = OrganisationInOneQuery,
            ExpressionAttributeValues = new()
            {
                [":pk"] = S(OrganisationPrefix + odsCode),
                [":from"] = S(ProductPrefix),
                [":to"] = S(ProductPrefix[..^1] + (char)(ProductPrefix[^1] + 1)),
                [":active"] = S(EntityStatus.Active),
            },
        }, cancellationToken);
        // A full page counts as unfinished even without a LastEvaluatedKey (moto leaves it out).
        return response.LastEvaluatedKey is { Count: > 0 } || response.ScannedCount >= OrganisationInOneQuery
            ? ([], true)
            : ([.. (response.Items ?? []).Where(row => Is(row, ProductRowType)).Select(ReadProduct)], false);
    }

    /// <summary>One or more calls outside a write transaction, their failures reported as the store being unavailable.</summary>
    private static async Task<T> CallAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call();
        }
        catch (Exception failure) when (IsStoreFailure(failure, cancellationToken))
        {
            throw Unavailable(failure);
        }
    }

    /// <summary>
    /// Let <paramref name="prepare"/> read and plan, then commit, with the answer to remember for
    /// an idempotent POST: a cancelled commit whose failed condition answers the request returns
    /// that answer; one that only met a newer sequence number (another instance wrote) commits
    /// again at once; anything else reads again after a jittered backoff, for a bounded time.
    /// </summary>
    private async Task<T> WriteAsync<T>(WriteContext? context, Func<CancellationToken, Task<DynamoDbWrite<T>>> prepare, CancellationToken cancellationToken)
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

                if (context?.Response is { } response)
                {
                    write.Remember(ResponseRow(response), ResponseFree(response));
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
    /// No answer is remembered under this key, or only one older than the idempotency window.
    /// The API's UTC timestamps sort as text in time order, so the comparison is on the string.
    /// </summary>
    private static DynamoDbExpression ResponseFree(StoredResponse response) => new(
        $"attribute_not_exists({Pk}) OR #created_on < :expired",
        new() { ["#created_on"] = CreatedOnAttribute },
        new() { [":expired"] = Time(response.CreatedOn - StoredResponse.ReplayWindow) });

    /// <summary>
    /// One writer at a time per instance takes the next sequence numbers: writes of one instance
    /// queue here instead of cancelling each other on the sequence row. Null: read again and retry.
    /// </summary>
    private async Task<WriteOutcome<T>?> CommitAsync<T>(DynamoDbWrite<T> write, Stopwatch elapsed, CancellationToken cancellationToken)
    {
        await _sequenceLock.WaitAsync(cancellationToken);
        try
        {
            // A number read with the write's rows may be behind this instance's own commits queued
            // before it here; either way the transaction's condition on the sequence row decides.
            var asRead = write.SequenceAsRead;
            while (true)
            {
                var sequence = asRead is { } known ? Math.Max(known, _sequenceSeen) : await ReadSequenceAsync(cancellationToken);
                asRead = null;
                try
                {
                    await client.TransactWriteItemsAsync(write.ToRequest(sequence), cancellationToken);
                    _sequenceSeen = sequence + write.EventCount;
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

    [ZLoggerMessage(LogLevel.Debug, "DynamoDB transaction cancelled: {Reasons}")]
    private partial void LogCancelled(string reasons);
}
