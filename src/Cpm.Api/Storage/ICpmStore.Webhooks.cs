namespace Cpm.Api.Storage;

/// <summary>
/// Webhook subscriptions and their delivery state. Each subscriber (a subscription, known by its
/// <see cref="WebhookRecord.Subscriber"/> key) has a cursor (the feed sequence delivered through)
/// and a lease: one holder at a time, until an expiry. Progress is saved only under the lease.
/// </summary>
internal partial interface ICpmStore
{
    /// <summary>
    /// Stores a subscription with its cursor at the feed's current end, read in the same
    /// transaction, so delivery covers exactly the events committed after it. With
    /// <paramref name="response"/>, the answer of an idempotent POST is remembered with it.
    /// </summary>
    Task CreateWebhookAsync(WebhookRecord webhook, StoredResponse? response, CancellationToken cancellationToken);

    /// <summary>Every subscription made through the API, ordered by creation time, then id.</summary>
    Task<IReadOnlyList<WebhookRecord>> ListWebhooksAsync(CancellationToken cancellationToken);

    Task<WebhookRecord?> GetWebhookAsync(string id, CancellationToken cancellationToken);

    /// <summary>Removes a subscription with its cursor and lease; false when there was none.</summary>
    Task<bool> DeleteWebhookAsync(string id, CancellationToken cancellationToken);

    /// <summary>The last sequence a webhook subscriber acknowledged, or null for a new subscriber.</summary>
    Task<long?> GetDeliveryCursorAsync(string subscriber, CancellationToken cancellationToken);

    /// <summary>The subscriber's cursor, how many events come after it, its last attempt and its lease.</summary>
    Task<DeliveryState> GetDeliveryStateAsync(string subscriber, CancellationToken cancellationToken);

    /// <summary>
    /// Takes the subscriber's lease until <paramref name="until"/> if nobody holds it or its
    /// holder's lease ended before <paramref name="now"/> (a compare-and-set in the store, so two
    /// nodes never both succeed). Null when another holder has it, or when
    /// <paramref name="mustHaveCursor"/> and the subscriber has no cursor (it was deleted).
    /// </summary>
    Task<DeliveryLease?> TryTakeLeaseAsync(string subscriber, string holder, DateTimeOffset now, DateTimeOffset until, bool mustHaveCursor, CancellationToken cancellationToken);

    /// <summary>
    /// Saves progress and extends the lease to <paramref name="until"/>, only while
    /// <paramref name="lease"/> is still the current one (fenced by its token); false when another
    /// holder took it or the subscriber was deleted. The cursor never moves back.
    /// </summary>
    Task<bool> SaveDeliveryProgressAsync(DeliveryLease lease, DeliveryProgress progress, DateTimeOffset until, CancellationToken cancellationToken);

    /// <summary>Ends the lease if it is still this one's, so another node may take over at once.</summary>
    Task ReleaseLeaseAsync(DeliveryLease lease, CancellationToken cancellationToken);

    /// <summary>The sequence of the last event committed (0 when there is none).</summary>
    Task<long> ReadFeedEndAsync(CancellationToken cancellationToken);
}

/// <summary>A subscription made through the API. The store holds the secret only protected (encrypted).</summary>
internal sealed record WebhookRecord(string Id, string Url, string? Description, string ProtectedSecret, DateTimeOffset CreatedOn)
{
    public string Subscriber => SubscriberFor(Id);

    public static string SubscriberFor(string id) => $"webhook-id:{id}";
}

/// <summary>One POST of an event: when, the receiver's status (null when none came back), and what went wrong.</summary>
internal sealed record DeliveryAttempt(DateTimeOffset At, int? Status, string? Error);

internal sealed record DeliveryState(long? DeliveredThrough, long Pending, DeliveryAttempt? LastAttempt, string? Holder, DateTimeOffset? LeaseUntil);

/// <summary>
/// A lease held: <see cref="Token"/> is new on every take, so a holder that lost the lease (even to
/// itself after a restart) can no longer save. It carries the progress saved under earlier leases.
/// </summary>
internal sealed record DeliveryLease(string Subscriber, string Holder, string Token, long? DeliveredThrough, IReadOnlyList<long> AcknowledgedAhead);

/// <summary>
/// Every event up to <see cref="DeliveredThrough"/> is acknowledged, and so are the later ones in
/// <see cref="AcknowledgedAhead"/> (events of other entities delivered concurrently), so a restart
/// sends none of them again.
/// </summary>
internal sealed record DeliveryProgress(long DeliveredThrough, IReadOnlyList<long> AcknowledgedAhead, DeliveryAttempt? LastAttempt);

/// <summary>How the adapters store a short list of sequence numbers: as text, comma-separated.</summary>
internal static class SequenceList
{
    public static string Format(IEnumerable<long> sequences) =>
        string.Join(',', sequences.Select(sequence => sequence.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    public static long[] Parse(string? text) =>
        string.IsNullOrEmpty(text) ? [] : [.. text.Split(',').Select(part => long.Parse(part, System.Globalization.CultureInfo.InvariantCulture))];
}
