using System.Collections.Concurrent;
using Cpm.Api.Http;
using Cpm.Api.Products;
using Cpm.Api.ProductTeams;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Cpm.Api.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode. Writes go one at a time through a single
/// connection in immediate transactions with full fsync, so a commit that returned is on disk and
/// every check-then-write (alias taken, team still live, team has no products) is race-free,
/// across processes too; writes that arrive together share a commit (<see cref="GroupCommit"/>). Reads use a pool of open connections, each keeping its compiled
/// statements, and run alongside writes.
/// </summary>
internal sealed class SqliteStore : ICpmStore, IDisposable
{
    private const string TeamColumns = "id, name, ods_code, status, created_on, updated_on, deleted_on, keys, version";
    private const string ProductColumns = "id, product_team_id, product_team_alias, name, ods_code, status, created_on, updated_on, deleted_on, version";

    // Enough idle readers for every core to have a read in progress and another waiting to start.
    private static readonly int MaxIdleReaders = Math.Max(4, 2 * Environment.ProcessorCount);

    private readonly string _connectionString;
    private readonly SqliteConnection _writer;
    private readonly GroupCommit _commits;
    private readonly ConcurrentBag<SqliteConnection> _idleReaders = [];
    private int _idleReaderCount;

    public SqliteStore(IOptions<StorageOptions> options)
    {
        var path = Path.GetFullPath(options.Value.Sqlite.Path);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString();
        _writer = new SqliteConnection(_connectionString);
        _writer.Open();
        Execute(_writer, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;");

        // Checkpoint every 4,000 pages (16 MiB of log) rather than SQLite's 1,000: a page written by
        // many commits in between (table tails, upper index levels) is copied to the database once.
        Execute(_writer, "PRAGMA wal_autocheckpoint = 4000;");
        Execute(_writer, SqliteSchema.Create);
        _commits = new GroupCommit(_writer);
    }

    public Task<ProductTeam?> FindTeamAsync(string idOrAlias, CancellationToken cancellationToken) =>
        ReadAsync(connection => FindLiveTeamAsync(connection, null, idOrAlias, cancellationToken));

    public Task<IReadOnlyList<ProductTeam>> ListTeamsAsync(string odsCode, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            using var command = Command(connection, null,
                $"SELECT {TeamColumns} FROM product_teams WHERE ods_code = $ods AND status = 'active' ORDER BY id",
                ("$ods", odsCode));
            return await ReadAllAsync(command, ReadTeam, cancellationToken);
        });

    public Task<bool> CreateTeamAsync(ProductTeam team, WriteContext context, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            // An alias may not repeat a live alias, nor any team id, live or deleted.
            using (var taken = Command(connection, transaction,
                "SELECT 1 FROM product_teams WHERE id IN ($id, $alias) OR (status = 'active' AND alias IN ($id, $alias)) LIMIT 1",
                ("$id", team.Id), ("$alias", team.Alias)))
            {
                if (await taken.ExecuteScalarAsync(cancellationToken) is not null)
                {
                    return false;
                }
            }

            using (var insert = Command(connection, transaction,
                $"INSERT INTO product_teams (alias, {TeamColumns}) VALUES ($alias, $id, $name, $ods, $status, $created, $updated, $deleted, $keys, $version)",
                TeamParameters(team)))
            {
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }

            await AppendEventAsync(connection, transaction, ChangeEvent.TeamCreated(team, context), cancellationToken);
            return true;
        }, cancellationToken);

    public Task<TeamDeletion> DeleteTeamAsync(string teamId, WriteContext context, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            if (await FindLiveTeamAsync(connection, transaction, teamId, cancellationToken) is not { } team || team.Id != teamId)
            {
                return TeamDeletion.NotFound;
            }

            using (var products = Command(connection, transaction,
                "SELECT id FROM products WHERE product_team_id = $team AND status = 'active' ORDER BY id", ("$team", teamId)))
            {
                var live = await ReadAllAsync(products, reader => reader.GetString(0), cancellationToken);
                if (live.Count > 0)
                {
                    return new TeamDeletion(null, live);
                }
            }

            var deleted = team.Deleted(context.Now);
            await MarkDeletedAsync(connection, transaction, "product_teams", deleted.Id, deleted.DeletedOn!.Value, deleted.Version, cancellationToken);
            await AppendEventAsync(connection, transaction, ChangeEvent.TeamDeleted(deleted, context), cancellationToken);
            return new TeamDeletion(deleted, []);
        }, cancellationToken);

    public Task<Product?> FindProductAsync(string productId, CancellationToken cancellationToken) =>
        ReadAsync(connection => FindLiveProductAsync(connection, null, productId, cancellationToken));

    public Task<ProductCreation> CreateProductAsync(Product product, WriteContext context, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            // Checked inside the write transaction: a team being deleted cannot gain a product.
            if (await FindLiveTeamAsync(connection, transaction, product.TeamId, cancellationToken) is not { } team || team.Id != product.TeamId)
            {
                return ProductCreation.TeamNotFound;
            }

            using (var taken = Command(connection, transaction, "SELECT 1 FROM products WHERE id = $id", ("$id", product.Id)))
            {
                if (await taken.ExecuteScalarAsync(cancellationToken) is not null)
                {
                    return ProductCreation.ProductIdTaken;
                }
            }

            using (var insert = Command(connection, transaction,
                $"INSERT INTO products ({ProductColumns}) VALUES ($id, $team, $alias, $name, $ods, $status, $created, $updated, $deleted, $version)",
                ("$id", product.Id), ("$team", product.TeamId), ("$alias", product.TeamAlias), ("$name", product.Name),
                ("$ods", product.OdsCode), ("$status", product.Status), ("$created", PythonTime.Format(product.CreatedOn)),
                ("$updated", null), ("$deleted", null), ("$version", product.Version)))
            {
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }

            await AppendEventAsync(connection, transaction, ChangeEvent.ProductCreated(product, context), cancellationToken);
            return ProductCreation.Created;
        }, cancellationToken);

    public Task<Product?> DeleteProductAsync(string teamId, string productId, WriteContext context, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            if (await FindLiveProductAsync(connection, transaction, productId, cancellationToken) is not { } product || product.TeamId != teamId)
            {
                return null;
            }

            var deleted = product.Deleted(context.Now);
            await MarkDeletedAsync(connection, transaction, "products", deleted.Id, deleted.DeletedOn!.Value, deleted.Version, cancellationToken);
            await AppendEventAsync(connection, transaction, ChangeEvent.ProductDeleted(deleted, context), cancellationToken);
            return deleted;
        }, cancellationToken);

    public Task<IReadOnlyList<Product>> FindProductsAsync(ProductFilter filter, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            using var command = filter.TeamId is not null
                ? Command(connection, null,
                    $"SELECT {ProductColumns} FROM products WHERE product_team_id = $key AND status = 'active' ORDER BY id",
                    ("$key", filter.TeamId))
                : Command(connection, null,
                    $"SELECT {ProductColumns} FROM products WHERE ods_code = $key AND status = 'active' ORDER BY product_team_id, id",
                    ("$key", filter.OdsCode));
            return await ReadAllAsync(command, ReadProduct, cancellationToken);
        });

    public Task PingAsync(CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            using var command = Command(connection, null, "SELECT count(*) FROM product_teams WHERE id = ''");
            return await command.ExecuteScalarAsync(cancellationToken);
        });

    public void Dispose()
    {
        _commits.Dispose();
        _writer.Dispose();
        while (_idleReaders.TryTake(out var reader))
        {
            reader.Dispose();
        }
    }

    private static async Task<ProductTeam?> FindLiveTeamAsync(SqliteConnection connection, SqliteTransaction? transaction, string idOrAlias, CancellationToken cancellationToken)
    {
        // A live team's id wins over an alias: aliases can never equal a team id, so at most one matches.
        // Each OR arm names the status so SQLite searches both indexes; written as
        // "status = 'active' AND (id = $key OR alias = $key)" it scans every live team.
        using var command = Command(connection, transaction,
            $"SELECT {TeamColumns} FROM product_teams WHERE (id = $key AND status = 'active') OR (alias = $key AND status = 'active') LIMIT 1",
            ("$key", idOrAlias));
        var teams = await ReadAllAsync(command, ReadTeam, cancellationToken);
        return teams.Count > 0 ? teams[0] : null;
    }

    private static async Task<Product?> FindLiveProductAsync(SqliteConnection connection, SqliteTransaction? transaction, string productId, CancellationToken cancellationToken)
    {
        using var command = Command(connection, transaction,
            $"SELECT {ProductColumns} FROM products WHERE id = $id AND status = 'active'", ("$id", productId));
        var products = await ReadAllAsync(command, ReadProduct, cancellationToken);
        return products.Count > 0 ? products[0] : null;
    }

    private static async Task MarkDeletedAsync(SqliteConnection connection, SqliteTransaction transaction, string table, string id, DateTimeOffset now, long version, CancellationToken cancellationToken)
    {
        using var command = Command(connection, transaction,
            $"UPDATE {table} SET status = 'inactive', updated_on = $now, deleted_on = $now, version = $version WHERE id = $id",
            ("$now", PythonTime.Format(now)), ("$version", version), ("$id", id));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task AppendEventAsync(SqliteConnection connection, SqliteTransaction transaction, ChangeEvent change, CancellationToken cancellationToken)
    {
        using var command = Command(connection, transaction,
            "INSERT INTO events (event_id, entity_type, entity_id, type, occurred_on, version, request_id, correlation_id, actor, changes) " +
            "VALUES ($event, $entityType, $entity, $type, $at, $version, $request, $correlation, $actor, $changes)",
            ("$event", change.EventId), ("$entityType", change.EntityType), ("$entity", change.EntityId), ("$type", change.Type),
            ("$at", PythonTime.Format(change.OccurredOn)), ("$version", change.Version), ("$request", change.RequestId),
            ("$correlation", change.CorrelationId), ("$actor", change.Actor),
            ("$changes", ChangeEvent.WriteChanges(new PythonJsonWriter(), change.Changes).ToString()));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static (string, object?)[] TeamParameters(ProductTeam team)
    {
        var keys = new PythonJsonWriter().StartArray();
        foreach (var key in team.Keys)
        {
            keys.StartObject().Property("key_type", key.KeyType).Property("key_value", key.KeyValue).EndObject();
        }

        return
        [
            ("$alias", team.Alias), ("$id", team.Id), ("$name", team.Name), ("$ods", team.OdsCode), ("$status", team.Status),
            ("$created", PythonTime.Format(team.CreatedOn)), ("$updated", Format(team.UpdatedOn)), ("$deleted", Format(team.DeletedOn)),
            ("$keys", keys.EndArray().ToString()), ("$version", team.Version),
        ];
    }

    private static ProductTeam ReadTeam(SqliteDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.GetString(2),
        reader.GetString(3),
        PythonTime.Parse(reader.GetString(4)),
        ParseOrNull(reader, 5),
        ParseOrNull(reader, 6),
        ((List<object?>)PythonJsonParser.Parse(reader.GetString(7))!)
            .Cast<JsonDict>()
            .Select(key => new ProductTeamKey((string)key["key_type"]!, (string)key["key_value"]!))
            .ToList(),
        reader.GetInt64(8));

    private static Product ReadProduct(SqliteDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.IsDBNull(2) ? null : reader.GetString(2),
        reader.GetString(3),
        reader.GetString(4),
        reader.GetString(5),
        PythonTime.Parse(reader.GetString(6)),
        ParseOrNull(reader, 7),
        ParseOrNull(reader, 8),
        reader.GetInt64(9));

    private static DateTimeOffset? ParseOrNull(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : PythonTime.Parse(reader.GetString(ordinal));

    private static string? Format(DateTimeOffset? value) => value is { } at ? PythonTime.Format(at) : null;

    private static PreparedStatement Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters) =>
        PreparedStatements.For(connection, transaction, sql, parameters);

    private static async Task<IReadOnlyList<T>> ReadAllAsync<T>(PreparedStatement command, Func<SqliteDataReader, T> read, CancellationToken cancellationToken)
    {
        var results = new List<T>();
        using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            results.Add(read(reader));
        }

        return results;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private async Task<T> ReadAsync<T>(Func<SqliteConnection, Task<T>> read)
    {
        SqliteConnection? connection = null;
        try
        {
            connection = RentReader();
            var result = await read(connection);
            ReturnReader(connection);
            connection = null;
            return result;
        }
        catch (SqliteException failure)
        {
            throw new StorageUnavailableException($"SQLite read failed: {failure.Message}", failure);
        }
        finally
        {
            // A connection whose read failed part-way is not trusted again.
            connection?.Dispose();
        }
    }

    private SqliteConnection RentReader()
    {
        if (_idleReaders.TryTake(out var reader))
        {
            Interlocked.Decrement(ref _idleReaderCount);
            return reader;
        }

        reader = new SqliteConnection(_connectionString);
        reader.Open();
        return reader;
    }

    private void ReturnReader(SqliteConnection reader)
    {
        if (Interlocked.Increment(ref _idleReaderCount) <= MaxIdleReaders)
        {
            _idleReaders.Add(reader);
            return;
        }

        Interlocked.Decrement(ref _idleReaderCount);
        reader.Dispose();
    }

    // A write cancelled part-way (the client went away) is rolled back whole.
    private Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> write, CancellationToken cancellationToken) =>
        _commits.WriteAsync(write, cancellationToken);
}
