using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Cpm.Api.Entities;
using Cpm.Api.Products;
using Cpm.Api.ProductTeams;
using Cpm.Api.Telemetry;
using Cpm.Api.Wire;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Cpm.Api.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode. Writes go one at a time through a single
/// connection in immediate transactions with full fsync, so a commit that returned is on disk and
/// every check-then-write (alias taken, team still live, team has no products, version unchanged)
/// is race-free, across processes too; writes that arrive together share a commit
/// (<see cref="GroupCommit"/>). Reads use a pool of open connections, each keeping its compiled
/// statements, and run alongside writes.
/// </summary>
internal sealed partial class SqliteStore : ICpmStore, IDisposable
{
    private const string TeamColumns = "id, name, ods_code, status, created_on, updated_on, deleted_on, keys, version";
    private const string ProductColumns = "id, product_team_id, product_team_alias, name, ods_code, status, created_on, updated_on, deleted_on, version";
    private const string InsertEvent =
        "INSERT INTO events (event_id, entity_type, entity_id, type, occurred_on, version, request_id, correlation_id, actor, changes) " +
        "VALUES ($event, $entityType, $entity, $type, $at, $version, $request, $correlation, $actor, $changes)";
    private const string EventColumns = "seq, event_id, entity_type, entity_id, type, occurred_on, version, request_id, correlation_id, actor, changes";

    // Searches: both read only the products_live index, an organisation's products or one team's among them.
    // They leave out what every row they find shares: the organisation searched, the live status, no deletion time.
    private const string LiveProductColumns = "id, product_team_id, product_team_alias, name, created_on, updated_on, version";
    internal const string OrganisationProductsQuery =
        $"SELECT {LiveProductColumns} FROM products WHERE ods_code = $ods AND status = 'active' " +
        "AND (product_team_id, id) > ($afterTeam, $afterProduct) ORDER BY product_team_id, id LIMIT $limit";
    internal const string TeamProductsQuery =
        $"SELECT {LiveProductColumns} FROM products WHERE ods_code = $ods AND product_team_id = $team AND status = 'active' " +
        "AND id > $afterProduct ORDER BY id LIMIT $limit";

    // In KiB (negative): SQLite's default page cache, and the one a bulk load gets.
    private const int DefaultCacheSize = -2000;
    private const int ImportCacheSize = -262144;

    // Enough idle readers for every core to have a read in progress and another waiting to start.
    private static readonly int MaxIdleReaders = Math.Max(4, 2 * Environment.ProcessorCount);

    private readonly string _connectionString;
    private readonly GroupCommit _commits;
    private readonly Checkpointer _checkpointer;
    private readonly ConcurrentBag<SqliteConnection> _idleReaders = [];
    private int _idleReaderCount;

    static SqliteStore()
    {
        // SQLite's multi-thread mode: no mutex lock and unlock around every call into SQLite (a
        // search reads ten columns a row, each a call). Safe here because no connection is ever
        // used by two threads at once: readers are rented one request at a time, the writer is held
        // by one batch at a time and closed only once no batch holds it. If SQLite was already
        // started in this process the call is refused and the slower serialized mode stays.
        SQLitePCL.Batteries_V2.Init();
        SQLitePCL.raw.sqlite3_config(SQLitePCL.raw.SQLITE_CONFIG_MULTITHREAD);
    }

    public SqliteStore(IOptions<StorageOptions> options, CpmMetrics metrics, TimeProvider time, ILogger<SqliteStore> logger)
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
        var writer = new SqliteConnection(_connectionString);
        writer.Open();
        Execute(writer, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;");

        // Checkpoints run on their own connection and thread (Checkpointer), not in the writer's commits.
        Execute(writer, "PRAGMA wal_autocheckpoint = 0;");
        Execute(writer, SqliteSchema.Create);
        Execute(writer, WebhookSchema);
        _commits = new GroupCommit(writer, () => _checkpointer?.Committed());
        _checkpointer = new Checkpointer(_connectionString, _commits, metrics, time, logger);
    }

    public Task<ProductTeam?> FindTeamAsync(string idOrAlias, CancellationToken cancellationToken) =>
        ReadAsync(connection => FindLiveTeamAsync(connection, null, idOrAlias, cancellationToken));

    public Task<ProductTeam?> GetTeamAsync(string teamId, CancellationToken cancellationToken) =>
        ReadAsync(connection => GetTeamAsync(connection, null, teamId, cancellationToken));

    public Task<IReadOnlyList<ProductTeam>> ListTeamsAsync(string odsCode, string? afterTeamId, int? limit, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            using var command = Command(connection, null,
                $"SELECT {TeamColumns} FROM product_teams WHERE ods_code = $ods AND status = 'active' AND id > $after ORDER BY id LIMIT $limit",
                ("$ods", odsCode), ("$after", afterTeamId ?? ""), ("$limit", limit ?? -1));
            return await ReadAllAsync(command, ReadTeam, cancellationToken);
        });

    public Task<bool> CreateTeamAsync(ProductTeam team, WriteContext context, CancellationToken cancellationToken) =>
        WriteAsync(context, async (connection, transaction) =>
        {
            // An alias may not repeat a live alias, nor any team id, live or deleted.
            if (await ExistsAsync(Command(connection, transaction,
                "SELECT 1 FROM product_teams WHERE id IN ($id, $alias) OR (status = 'active' AND alias IN ($id, $alias)) LIMIT 1",
                ("$id", team.Id), ("$alias", team.Alias)), cancellationToken))
            {
                return false;
            }

            await InsertTeamAsync(connection, transaction, team, cancellationToken);
            await AppendEventAsync(connection, transaction, ChangeEvent.TeamCreated(team, context), cancellationToken);
            return true;
        }, created => created, cancellationToken);

    public Task<TeamDeletion> DeleteTeamAsync(string teamId, WriteContext context, CancellationToken cancellationToken) =>
        WriteAsync(context, async (connection, transaction) =>
        {
            if (await GetTeamAsync(connection, transaction, teamId, cancellationToken) is not { IsActive: true } team)
            {
                return TeamDeletion.NotFound;
            }

            using (var products = Command(connection, transaction,
                "SELECT id FROM products WHERE ods_code = $ods AND product_team_id = $team AND status = 'active' ORDER BY id",
                ("$ods", team.OdsCode), ("$team", teamId)))
            {
                var live = await ReadAllAsync(products, reader => reader.GetString(0), cancellationToken);
                if (live.Count > 0)
                {
                    return new TeamDeletion(null, live);
                }
            }

            var deleted = team.Deleted(context.Now);
            await UpdateStateAsync(connection, transaction, "product_teams", deleted, cancellationToken);
            await AppendEventAsync(connection, transaction, ChangeEvent.TeamDeleted(deleted, context), cancellationToken);
            return new TeamDeletion(deleted, []);
        }, deletion => deletion.Deleted is not null, cancellationToken);

    public Task<bool> RenameTeamAsync(ProductTeam renamed, long expectedVersion, WriteContext context, CancellationToken cancellationToken) =>
        WriteAsync(context, async (connection, transaction) =>
        {
            if (await GetTeamAsync(connection, transaction, renamed.Id, cancellationToken) is not { IsActive: true } current
                || current.Version != expectedVersion)
            {
                return false;
            }

            await UpdateStateAsync(connection, transaction, "product_teams", renamed, cancellationToken);
            await AppendEventAsync(connection, transaction, ChangeEvent.TeamRenamed(current, renamed, context), cancellationToken);
            return true;
        }, renamed => renamed, cancellationToken);

    public Task<Restoration> RestoreTeamAsync(ProductTeam restored, long expectedVersion, WriteContext context, CancellationToken cancellationToken) =>
        WriteAsync(context, async (connection, transaction) =>
        {
            if (await GetTeamAsync(connection, transaction, restored.Id, cancellationToken) is not { IsActive: false } current
                || current.Version != expectedVersion)
            {
                return Restoration.VersionChanged;
            }

            if (restored.Alias is { } alias)
            {
                if (await ExistsAsync(Command(connection, transaction,
                    "SELECT 1 FROM product_teams WHERE status = 'active' AND (alias = $alias OR id = $alias) LIMIT 1", ("$alias", alias)), cancellationToken))
                {
                    return Restoration.AliasTaken;
                }
            }

            await UpdateStateAsync(connection, transaction, "product_teams", restored, cancellationToken);
            await AppendEventAsync(connection, transaction, ChangeEvent.TeamRestored(restored, context), cancellationToken);
            return Restoration.Restored;
        }, restoration => restoration == Restoration.Restored, cancellationToken);

    public Task<Product?> FindProductAsync(string productId, CancellationToken cancellationToken) =>
        ReadAsync(async connection => await GetProductAsync(connection, null, productId, cancellationToken) is { IsActive: true } product ? product : null);

    public Task<Product?> GetProductAsync(string productId, CancellationToken cancellationToken) =>
        ReadAsync(connection => GetProductAsync(connection, null, productId, cancellationToken));

    public Task<ProductCreation> CreateProductAsync(Product product, WriteContext context, CancellationToken cancellationToken)
    {
        // Writes run one at a time, so only what depends on the database is done inside the write.
        var insert = ProductValues(product);
        var created = EventValues(ChangeEvent.ProductCreated(product, context));
        return WriteAsync(context, async (connection, transaction) =>
        {
            // One statement checks the team is live (inside the write transaction: a team being
            // deleted cannot gain a product) and inserts the product unless its id is taken.
            using (var command = Command(connection, transaction,
                $"INSERT INTO products ({ProductColumns}) SELECT $id, $team, $alias, $name, $ods, $status, $created, $updated, $deleted, $version " +
                "FROM product_teams WHERE id = $team AND status = 'active' ON CONFLICT (id) DO NOTHING", insert))
            {
                if (await command.ExecuteNonQueryAsync(CancellationToken.None) == 0)
                {
                    return await ExistsAsync(Command(connection, transaction, "SELECT 1 FROM product_teams WHERE id = $id AND status = 'active'", ("$id", product.TeamId)), CancellationToken.None)
                        ? ProductCreation.ProductIdTaken
                        : ProductCreation.TeamNotFound;
                }
            }

            using var append = Command(connection, transaction, InsertEvent, created);
            await append.ExecuteNonQueryAsync(CancellationToken.None);
            return ProductCreation.Created;
        }, creation => creation == ProductCreation.Created, cancellationToken);
    }

    public Task<Product?> DeleteProductAsync(string teamId, string productId, WriteContext context, CancellationToken cancellationToken) =>
        WriteAsync(context, async (connection, transaction) =>
        {
            if (await GetProductAsync(connection, transaction, productId, cancellationToken) is not { IsActive: true } product || product.TeamId != teamId)
            {
                return null;
            }

            var deleted = product.Deleted(context.Now);
            await UpdateStateAsync(connection, transaction, "products", deleted, cancellationToken);
            await AppendEventAsync(connection, transaction, ChangeEvent.ProductDeleted(deleted, context), cancellationToken);
            return deleted;
        }, deleted => deleted is not null, cancellationToken);

    public Task<bool> RenameProductAsync(Product renamed, long expectedVersion, WriteContext context, CancellationToken cancellationToken) =>
        WriteAsync(context, async (connection, transaction) =>
        {
            if (await GetProductAsync(connection, transaction, renamed.Id, cancellationToken) is not { IsActive: true } current
                || current.Version != expectedVersion)
            {
                return false;
            }

            await UpdateStateAsync(connection, transaction, "products", renamed, cancellationToken);
            await AppendEventAsync(connection, transaction, ChangeEvent.ProductRenamed(current, renamed, context), cancellationToken);
            return true;
        }, renamed => renamed, cancellationToken);

    public Task<Restoration> RestoreProductAsync(Product restored, long expectedVersion, WriteContext context, CancellationToken cancellationToken) =>
        WriteAsync(context, async (connection, transaction) =>
        {
            if (await GetProductAsync(connection, transaction, restored.Id, cancellationToken) is not { IsActive: false } current
                || current.Version != expectedVersion)
            {
                return Restoration.VersionChanged;
            }

            if (await GetTeamAsync(connection, transaction, restored.TeamId, cancellationToken) is not { IsActive: true })
            {
                return Restoration.TeamDeleted;
            }

            await UpdateStateAsync(connection, transaction, "products", restored, cancellationToken);
            await AppendEventAsync(connection, transaction, ChangeEvent.ProductRestored(restored, context), cancellationToken);
            return Restoration.Restored;
        }, restoration => restoration == Restoration.Restored, cancellationToken);

    public Task<IReadOnlyList<Product>> FindProductsAsync(ProductFilter filter, ProductPosition? after, int? limit, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            Func<SqliteDataReader, Product> read = reader => ReadLiveProduct(reader, filter.OdsCode);
            if (filter.TeamId is { } teamId)
            {
                if (ProductPosition.ResumeInTeam(after, teamId) is not { } afterProduct)
                {
                    return [];
                }

                using var teamProducts = Command(connection, null, TeamProductsQuery,
                    ("$ods", filter.OdsCode), ("$team", teamId), ("$afterProduct", afterProduct), ("$limit", limit ?? -1));
                return await ReadAllAsync(teamProducts, read, cancellationToken);
            }

            using var command = Command(connection, null, OrganisationProductsQuery,
                ("$ods", filter.OdsCode), ("$afterTeam", after?.TeamId ?? ""), ("$afterProduct", after?.ProductId ?? ""), ("$limit", limit ?? -1));
            return await ReadAllAsync(command, read, cancellationToken);
        });

    public Task<IReadOnlyList<SequencedEvent>> GetHistoryAsync(string entityType, string entityId, long afterPosition, int limit, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            using var command = Command(connection, null,
                $"SELECT {EventColumns} FROM events WHERE entity_type = $type AND entity_id = $id AND seq > $after ORDER BY seq LIMIT $limit",
                ("$type", entityType), ("$id", entityId), ("$after", afterPosition), ("$limit", limit));
            return await ReadAllAsync(command, ReadEvent, cancellationToken);
        });

    public Task<IReadOnlyList<SequencedEvent>> ReadEventsAsync(long afterSequence, int limit, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            using var command = Command(connection, null,
                $"SELECT {EventColumns} FROM events WHERE seq > $after ORDER BY seq LIMIT $limit",
                ("$after", afterSequence), ("$limit", limit));
            return await ReadAllAsync(command, ReadEvent, cancellationToken);
        });

    public Task<StoredResponse?> FindResponseAsync(string caller, string requestId, DateTimeOffset notBefore, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            using var command = Command(connection, null,
                "SELECT caller, request_id, fingerprint, status, body, etag, created_on FROM responses WHERE caller = $caller AND request_id = $request",
                ("$caller", caller), ("$request", requestId));
            var found = await ReadAllAsync(command, reader => new StoredResponse(
                reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3), reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetString(5), PythonTime.Parse(reader.GetString(6))), cancellationToken);
            return found.Count > 0 && found[0].CreatedOn >= notBefore ? found[0] : null;
        });

    public Task<IReadOnlyList<string>> ReadProtectionKeysAsync(CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            using var command = Command(connection, null, "SELECT xml FROM data_protection_keys ORDER BY name");
            return await ReadAllAsync(command, reader => reader.GetString(0), cancellationToken);
        });

    public Task AddProtectionKeyAsync(string name, string xml, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            using var command = Command(connection, transaction,
                "INSERT INTO data_protection_keys (name, xml) VALUES ($name, $xml) ON CONFLICT (name) DO NOTHING",
                ("$name", name), ("$xml", xml));
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);

    public IAsyncEnumerable<ProductTeam> ExportTeamsAsync(CancellationToken cancellationToken) =>
        StreamAsync($"SELECT {TeamColumns} FROM product_teams ORDER BY id", ReadTeam, cancellationToken);

    public IAsyncEnumerable<Product> ExportProductsAsync(CancellationToken cancellationToken) =>
        StreamAsync($"SELECT {ProductColumns} FROM products ORDER BY id", ReadProduct, cancellationToken);

    public Task ImportAsync(IReadOnlyList<ProductTeam> teams, IReadOnlyList<Product> products, IReadOnlyList<ChangeEvent> events, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            using (var existing = Command(connection, transaction, "SELECT (SELECT count(*) FROM product_teams) + (SELECT count(*) FROM events)"))
            {
                if ((long)(await existing.ExecuteScalarAsync(cancellationToken))! > 0)
                {
                    throw new InvalidOperationException("Import needs an empty store; this one already holds data.");
                }
            }

            // A bulk load: the secondary indexes are built again once the rows are in (one sort instead of a
            // million inserts at random places), with a page cache that holds the tables being filled.
            Execute(connection, transaction, $"PRAGMA cache_size = {ImportCacheSize}; {SqliteSchema.DropSecondaryIndexes}");
            try
            {
                foreach (var team in teams)
                {
                    await InsertTeamAsync(connection, transaction, team, cancellationToken);
                }

                foreach (var product in products)
                {
                    await InsertProductAsync(connection, transaction, product, cancellationToken);
                }

                foreach (var change in events)
                {
                    await AppendEventAsync(connection, transaction, change, cancellationToken);
                }

                Execute(connection, transaction, SqliteSchema.Create);
            }
            finally
            {
                Execute(connection, transaction, $"PRAGMA cache_size = {DefaultCacheSize};");
            }

            return 0;
        }, cancellationToken);

    public Task PingAsync(CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            using var command = Command(connection, null, "SELECT count(*) FROM product_teams WHERE id = ''");
            return await command.ExecuteScalarAsync(cancellationToken);
        });

    public void Dispose()
    {
        _checkpointer.Dispose();
        _commits.Dispose();
        while (_idleReaders.TryTake(out var reader))
        {
            reader.Dispose();
        }
    }

    private static async Task<ProductTeam?> FindLiveTeamAsync(SqliteConnection connection, SqliteTransaction? transaction, string idOrAlias, CancellationToken cancellationToken)
    {
        // Aliases can never equal a team id, so at most one live team matches. Each OR arm names the
        // status so SQLite searches both indexes; "status = 'active' AND (id = $key OR alias = $key)" scans every live team.
        using var command = Command(connection, transaction,
            $"SELECT {TeamColumns} FROM product_teams WHERE (id = $key AND status = 'active') OR (alias = $key AND status = 'active') LIMIT 1",
            ("$key", idOrAlias));
        return await SingleOrNullAsync(command, ReadTeam, cancellationToken);
    }

    private static async Task<ProductTeam?> GetTeamAsync(SqliteConnection connection, SqliteTransaction? transaction, string teamId, CancellationToken cancellationToken)
    {
        using var command = Command(connection, transaction, $"SELECT {TeamColumns} FROM product_teams WHERE id = $id", ("$id", teamId));
        return await SingleOrNullAsync(command, ReadTeam, cancellationToken);
    }

    private static async Task<Product?> GetProductAsync(SqliteConnection connection, SqliteTransaction? transaction, string productId, CancellationToken cancellationToken)
    {
        using var command = Command(connection, transaction, $"SELECT {ProductColumns} FROM products WHERE id = $id", ("$id", productId));
        return await SingleOrNullAsync(command, ReadProduct, cancellationToken);
    }

    private static async Task InsertTeamAsync(SqliteConnection connection, SqliteTransaction transaction, ProductTeam team, CancellationToken cancellationToken)
    {
        using var insert = Command(connection, transaction,
            $"INSERT INTO product_teams (alias, {TeamColumns}) VALUES ($alias, $id, $name, $ods, $status, $created, $updated, $deleted, $keys, $version)",
            ("$alias", team.Alias), ("$id", team.Id), ("$name", team.Name), ("$ods", team.OdsCode), ("$status", team.Status),
            ("$created", PythonTime.Format(team.CreatedOn)), ("$updated", Format(team.UpdatedOn)), ("$deleted", Format(team.DeletedOn)),
            ("$keys", ProductTeamKey.WriteAll(new PythonJsonWriter(), team.Keys).ToString()), ("$version", team.Version));
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task InsertProductAsync(SqliteConnection connection, SqliteTransaction transaction, Product product, CancellationToken cancellationToken)
    {
        using var insert = Command(connection, transaction,
            $"INSERT INTO products ({ProductColumns}) VALUES ($id, $team, $alias, $name, $ods, $status, $created, $updated, $deleted, $version)",
            ProductValues(product));
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    private static (string Name, object? Value)[] ProductValues(Product product) =>
    [
        ("$id", product.Id), ("$team", product.TeamId), ("$alias", product.TeamAlias), ("$name", product.Name),
        ("$ods", product.OdsCode), ("$status", product.Status), ("$created", PythonTime.Format(product.CreatedOn)),
        ("$updated", Format(product.UpdatedOn)), ("$deleted", Format(product.DeletedOn)), ("$version", product.Version),
    ];

    /// <summary>What a rename, delete or restore changes: the same columns in both tables.</summary>
    private static async Task UpdateStateAsync<T>(SqliteConnection connection, SqliteTransaction transaction, string table, Entity<T> changed, CancellationToken cancellationToken)
        where T : Entity<T>
    {
        using var command = Command(connection, transaction,
            $"UPDATE {table} SET name = $name, status = $status, updated_on = $updated, deleted_on = $deleted, version = $version WHERE id = $id",
            ("$name", changed.Name), ("$status", changed.Status), ("$updated", Format(changed.UpdatedOn)), ("$deleted", Format(changed.DeletedOn)),
            ("$version", changed.Version), ("$id", changed.Id));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task AppendEventAsync(SqliteConnection connection, SqliteTransaction transaction, ChangeEvent change, CancellationToken cancellationToken)
    {
        using var command = Command(connection, transaction, InsertEvent, EventValues(change));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static (string Name, object? Value)[] EventValues(ChangeEvent change) =>
    [
        ("$event", change.EventId), ("$entityType", change.EntityType), ("$entity", change.EntityId), ("$type", change.Type),
        ("$at", PythonTime.Format(change.OccurredOn)), ("$version", change.Version), ("$request", change.RequestId),
        ("$correlation", change.CorrelationId), ("$actor", change.Actor),
        ("$changes", ChangeEvent.WriteChanges(new PythonJsonWriter(), change.Changes).ToString()),
    ];

    private static async Task RememberResponseAsync(SqliteConnection connection, SqliteTransaction transaction, StoredResponse response, CancellationToken cancellationToken)
    {
        // Another request with this id answered first (an expired record is replaced).
        using (var existing = Command(connection, transaction,
            "SELECT created_on FROM responses WHERE caller = $caller AND request_id = $request", ("$caller", response.Caller), ("$request", response.RequestId)))
        {
            if (await existing.ExecuteScalarAsync(cancellationToken) is string createdOn
                && PythonTime.Parse(createdOn) > response.CreatedOn - StoredResponse.ReplayWindow)
            {
                throw new DuplicateRequestException();
            }
        }

        using var command = Command(connection, transaction,
            "INSERT OR REPLACE INTO responses (caller, request_id, fingerprint, status, body, etag, created_on) " +
            "VALUES ($caller, $request, $fingerprint, $status, $body, $etag, $created)",
            ("$caller", response.Caller), ("$request", response.RequestId), ("$fingerprint", response.Fingerprint), ("$status", response.Status),
            ("$body", response.Body), ("$etag", response.ETag), ("$created", PythonTime.Format(response.CreatedOn)));
        await command.ExecuteNonQueryAsync(cancellationToken);
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

    /// <summary>A row of <see cref="LiveProductColumns"/>, found among the live products of <paramref name="odsCode"/>.</summary>
    private static Product ReadLiveProduct(SqliteDataReader reader, string odsCode) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.IsDBNull(2) ? null : reader.GetString(2),
        reader.GetString(3),
        odsCode,
        EntityStatus.Active,
        PythonTime.Parse(reader.GetString(4)),
        ParseOrNull(reader, 5),
        null,
        reader.GetInt64(6));

    private static SequencedEvent ReadEvent(SqliteDataReader reader) => new(
        reader.GetInt64(0),
        new ChangeEvent(
            reader.GetString(1),
            reader.GetString(2),
            reader.GetString(3),
            reader.GetString(4),
            PythonTime.Parse(reader.GetString(5)),
            reader.GetInt64(6),
            reader.IsDBNull(7) ? null : reader.GetString(7),
            reader.IsDBNull(8) ? null : reader.GetString(8),
            reader.GetString(9),
            ChangeEvent.ParseChanges(reader.GetString(10))));

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

    private static async Task<bool> ExistsAsync(PreparedStatement command, CancellationToken cancellationToken)
    {
        using (command)
        {
            return await command.ExecuteScalarAsync(cancellationToken) is not null;
        }
    }

    private static async Task<T?> SingleOrNullAsync<T>(PreparedStatement command, Func<SqliteDataReader, T> read, CancellationToken cancellationToken)
        where T : class
    {
        using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? read(reader) : null;
    }

    private static void Execute(SqliteConnection connection, string sql) => Execute(connection, null, sql);

    private static void Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private async IAsyncEnumerable<T> StreamAsync<T>(string sql, Func<SqliteDataReader, T> read, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        using var command = Command(connection, null, sql);
        using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return read(reader);
        }
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

    /// <summary>
    /// One atomic write, committed with whatever else arrived at the same time. A remembered POST
    /// answer (<see cref="WriteContext.Response"/>) is stored with it only when
    /// <paramref name="changed"/> says the write made its change, so the answer and the change commit
    /// together. A write cancelled part-way is rolled back whole.
    /// </summary>
    private Task<T> WriteAsync<T>(WriteContext context, Func<SqliteConnection, SqliteTransaction, Task<T>> write, Func<T, bool> changed, CancellationToken cancellationToken) =>
        _commits.WriteAsync(async (connection, transaction) =>
        {
            var result = await write(connection, transaction);
            if (context.Response is { } response && changed(result))
            {
                await RememberResponseAsync(connection, transaction, response, cancellationToken);
            }

            return result;
        }, cancellationToken);

    /// <summary>A write that no request answer goes with: delivery progress, a Data Protection key, an import.</summary>
    private Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> write, CancellationToken cancellationToken) =>
        _commits.WriteAsync(write, cancellationToken);
}
