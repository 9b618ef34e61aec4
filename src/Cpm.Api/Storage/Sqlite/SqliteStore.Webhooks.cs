using Cpm.Api.Wire;
using Microsoft.Data.Sqlite;

namespace Cpm.Api.Storage.Sqlite;

/// <summary>
/// Webhook subscriptions, cursors and leases. A subscriber's cursor stays in
/// <c>delivery_cursors</c> (so cursors of configured subscriptions carry on); its lease, the
/// events acknowledged past the cursor and the last attempt are in <c>delivery_leases</c>. Lease
/// changes are writes, so they run one at a time through the writer: the compare-and-set is the
/// check and the update in one immediate transaction.
/// </summary>
internal sealed partial class SqliteStore
{
    private const string WebhookSchema = """
        CREATE TABLE IF NOT EXISTS webhooks (
            id TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            description TEXT,
            secret TEXT NOT NULL,
            created_on TEXT NOT NULL
        );

        CREATE TABLE IF NOT EXISTS delivery_leases (
            subscriber TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            token TEXT NOT NULL,
            until_ms INTEGER NOT NULL,
            acknowledged_ahead TEXT NOT NULL,
            attempt_at TEXT,
            attempt_status INTEGER,
            attempt_error TEXT
        );
        """;

    private const string WebhookColumns = "id, url, description, secret, created_on";

    public Task CreateWebhookAsync(WebhookRecord webhook, StoredResponse? response, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            using (var insert = Command(connection, transaction,
                $"INSERT INTO webhooks ({WebhookColumns}) VALUES ($id, $url, $description, $secret, $created)",
                ("$id", webhook.Id), ("$url", webhook.Url), ("$description", webhook.Description), ("$secret", webhook.ProtectedSecret),
                ("$created", PythonTime.Format(webhook.CreatedOn))))
            {
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }

            // Writes run one at a time, so the end read here is exactly what came before the subscription.
            using (var cursor = Command(connection, transaction,
                "INSERT INTO delivery_cursors (subscriber, sequence) VALUES ($subscriber, (SELECT coalesce(max(seq), 0) FROM events))",
                ("$subscriber", webhook.Subscriber)))
            {
                await cursor.ExecuteNonQueryAsync(cancellationToken);
            }

            if (response is not null)
            {
                await RememberResponseAsync(connection, transaction, response, cancellationToken);
            }

            return 0;
        }, cancellationToken);

    public Task<IReadOnlyList<WebhookRecord>> ListWebhooksAsync(CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            using var command = Command(connection, null, $"SELECT {WebhookColumns} FROM webhooks ORDER BY created_on, id");
            return await ReadAllAsync(command, ReadWebhook, cancellationToken);
        });

    public Task<WebhookRecord?> GetWebhookAsync(string id, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            using var command = Command(connection, null, $"SELECT {WebhookColumns} FROM webhooks WHERE id = $id", ("$id", id));
            return await SingleOrNullAsync(command, ReadWebhook, cancellationToken);
        });

    public Task<bool> DeleteWebhookAsync(string id, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            var subscriber = WebhookRecord.SubscriberFor(id);
            using (var leases = Command(connection, transaction, "DELETE FROM delivery_leases WHERE subscriber = $subscriber", ("$subscriber", subscriber)))
            {
                await leases.ExecuteNonQueryAsync(cancellationToken);
            }

            using (var cursors = Command(connection, transaction, "DELETE FROM delivery_cursors WHERE subscriber = $subscriber", ("$subscriber", subscriber)))
            {
                await cursors.ExecuteNonQueryAsync(cancellationToken);
            }

            using var webhooks = Command(connection, transaction, "DELETE FROM webhooks WHERE id = $id", ("$id", id));
            return await webhooks.ExecuteNonQueryAsync(cancellationToken) > 0;
        }, cancellationToken);

    public Task<long?> GetDeliveryCursorAsync(string subscriber, CancellationToken cancellationToken) =>
        ReadAsync(connection => CursorAsync(connection, null, subscriber, cancellationToken));

    public Task<DeliveryState> GetDeliveryStateAsync(string subscriber, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            var cursor = await CursorAsync(connection, null, subscriber, cancellationToken);
            long pending = 0;
            if (cursor is { } through)
            {
                using var count = Command(connection, null, "SELECT count(*) FROM events WHERE seq > $after", ("$after", through));
                pending = (long)(await count.ExecuteScalarAsync(cancellationToken))!;
            }

            using var lease = Command(connection, null,
                "SELECT holder, until_ms, attempt_at, attempt_status, attempt_error FROM delivery_leases WHERE subscriber = $subscriber",
                ("$subscriber", subscriber));
            using var reader = await lease.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return new DeliveryState(cursor, pending, null, null, null);
            }

            var attempt = reader.IsDBNull(2)
                ? null
                : new DeliveryAttempt(PythonTime.Parse(reader.GetString(2)), reader.IsDBNull(3) ? null : reader.GetInt32(3), reader.IsDBNull(4) ? null : reader.GetString(4));
            return new DeliveryState(cursor, pending, attempt, reader.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)));
        });

    public Task<DeliveryLease?> TryTakeLeaseAsync(string subscriber, string holder, DateTimeOffset now, DateTimeOffset until, bool mustHaveCursor, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            var cursor = await CursorAsync(connection, transaction, subscriber, cancellationToken);
            if (mustHaveCursor && cursor is null)
            {
                return null;
            }

            var ahead = "";
            using (var current = Command(connection, transaction,
                "SELECT until_ms, acknowledged_ahead FROM delivery_leases WHERE subscriber = $subscriber", ("$subscriber", subscriber)))
            {
                using var reader = await current.ExecuteReaderAsync(cancellationToken);
                if (await reader.ReadAsync(cancellationToken))
                {
                    if (reader.GetInt64(0) > now.ToUnixTimeMilliseconds())
                    {
                        return null;
                    }

                    ahead = reader.GetString(1);
                }
            }

            var token = Guid.NewGuid().ToString("N");
            using var take = Command(connection, transaction,
                "INSERT INTO delivery_leases (subscriber, holder, token, until_ms, acknowledged_ahead) VALUES ($subscriber, $holder, $token, $until, '') " +
                "ON CONFLICT (subscriber) DO UPDATE SET holder = excluded.holder, token = excluded.token, until_ms = excluded.until_ms",
                ("$subscriber", subscriber), ("$holder", holder), ("$token", token), ("$until", until.ToUnixTimeMilliseconds()));
            await take.ExecuteNonQueryAsync(cancellationToken);
            return new DeliveryLease(subscriber, holder, token, cursor, SequenceList.Parse(ahead));
        }, cancellationToken);

    public Task<bool> SaveDeliveryProgressAsync(DeliveryLease lease, DeliveryProgress progress, DateTimeOffset until, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            var attempt = progress.LastAttempt;
            using (var renew = Command(connection, transaction,
                "UPDATE delivery_leases SET until_ms = $until, acknowledged_ahead = $ahead, " +
                "attempt_at = coalesce($at, attempt_at), attempt_status = CASE WHEN $at IS NULL THEN attempt_status ELSE $status END, " +
                "attempt_error = CASE WHEN $at IS NULL THEN attempt_error ELSE $error END " +
                "WHERE subscriber = $subscriber AND token = $token",
                ("$until", until.ToUnixTimeMilliseconds()), ("$ahead", SequenceList.Format(progress.AcknowledgedAhead)),
                ("$at", attempt is null ? null : PythonTime.Format(attempt.At)), ("$status", attempt?.Status), ("$error", attempt?.Error),
                ("$subscriber", lease.Subscriber), ("$token", lease.Token)))
            {
                if (await renew.ExecuteNonQueryAsync(cancellationToken) == 0)
                {
                    return false;
                }
            }

            using var save = Command(connection, transaction,
                "INSERT INTO delivery_cursors (subscriber, sequence) VALUES ($subscriber, $sequence) " +
                "ON CONFLICT (subscriber) DO UPDATE SET sequence = max(sequence, excluded.sequence)",
                ("$subscriber", lease.Subscriber), ("$sequence", progress.DeliveredThrough));
            await save.ExecuteNonQueryAsync(cancellationToken);
            return true;
        }, cancellationToken);

    public Task ReleaseLeaseAsync(DeliveryLease lease, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            using var release = Command(connection, transaction,
                "UPDATE delivery_leases SET until_ms = 0 WHERE subscriber = $subscriber AND token = $token",
                ("$subscriber", lease.Subscriber), ("$token", lease.Token));
            return await release.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);

    public Task<long> ReadFeedEndAsync(CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            using var command = Command(connection, null, "SELECT coalesce(max(seq), 0) FROM events");
            return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        });

    private static async Task<long?> CursorAsync(SqliteConnection connection, SqliteTransaction? transaction, string subscriber, CancellationToken cancellationToken)
    {
        using var command = Command(connection, transaction, "SELECT sequence FROM delivery_cursors WHERE subscriber = $subscriber", ("$subscriber", subscriber));
        return await command.ExecuteScalarAsync(cancellationToken) is long sequence ? sequence : null;
    }

    private static WebhookRecord ReadWebhook(SqliteDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.IsDBNull(2) ? null : reader.GetString(2),
        reader.GetString(3),
        PythonTime.Parse(reader.GetString(4)));
}
