using Cpm.Api.Products;
using Cpm.Api.ProductTeams;

namespace Cpm.Api.Storage;

/// <summary>
/// The one storage port: exactly the access patterns the API needs. Every write is atomic and
/// records its <see cref="ChangeEvent"/> (and, for a POST carrying <c>X-Request-Id</c>, its
/// <see cref="StoredResponse"/>) in the same transaction. Conditional writes take the entity as it
/// will be after the write and the version it must replace.
/// </summary>
internal partial interface ICpmStore
{
    /// <summary>A live team by its id or its alias.</summary>
    Task<ProductTeam?> FindTeamAsync(string idOrAlias, CancellationToken cancellationToken);

    /// <summary>A team by its own id, live or deleted.</summary>
    Task<ProductTeam?> GetTeamAsync(string teamId, CancellationToken cancellationToken);

    /// <summary>Live teams of an organisation ordered by id, after <paramref name="afterTeamId"/>, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<ProductTeam>> ListTeamsAsync(string odsCode, string? afterTeamId, int? limit, CancellationToken cancellationToken);

    /// <summary>False when the team's id or alias is already taken.</summary>
    Task<bool> CreateTeamAsync(ProductTeam team, WriteContext context, CancellationToken cancellationToken);

    Task<TeamDeletion> DeleteTeamAsync(string teamId, WriteContext context, CancellationToken cancellationToken);

    /// <summary>False when the team is no longer live at <paramref name="expectedVersion"/>.</summary>
    Task<bool> RenameTeamAsync(ProductTeam renamed, long expectedVersion, WriteContext context, CancellationToken cancellationToken);

    /// <summary><see cref="Restoration.VersionChanged"/> when the team is no longer deleted at <paramref name="expectedVersion"/>.</summary>
    Task<Restoration> RestoreTeamAsync(ProductTeam restored, long expectedVersion, WriteContext context, CancellationToken cancellationToken);

    /// <summary>A live product by id (ids are case-sensitive).</summary>
    Task<Product?> FindProductAsync(string productId, CancellationToken cancellationToken);

    /// <summary>A product by id, live or deleted.</summary>
    Task<Product?> GetProductAsync(string productId, CancellationToken cancellationToken);

    Task<ProductCreation> CreateProductAsync(Product product, WriteContext context, CancellationToken cancellationToken);

    /// <summary>The deleted product, or null when the team has no such live product.</summary>
    Task<Product?> DeleteProductAsync(string teamId, string productId, WriteContext context, CancellationToken cancellationToken);

    /// <summary>False when the product is no longer live at <paramref name="expectedVersion"/>.</summary>
    Task<bool> RenameProductAsync(Product renamed, long expectedVersion, WriteContext context, CancellationToken cancellationToken);

    /// <summary><see cref="Restoration.VersionChanged"/> when the product is no longer deleted at <paramref name="expectedVersion"/>.</summary>
    Task<Restoration> RestoreProductAsync(Product restored, long expectedVersion, WriteContext context, CancellationToken cancellationToken);

    /// <summary>
    /// Live products of a team or of an organisation, ordered by organisation, team id, product id,
    /// after <paramref name="after"/>, at most <paramref name="limit"/>.
    /// </summary>
    Task<IReadOnlyList<Product>> FindProductsAsync(ProductFilter filter, ProductPosition? after, int? limit, CancellationToken cancellationToken);

    /// <summary>
    /// One entity's events, oldest first, after a position in its history (0: from the start), at
    /// most <paramref name="limit"/>; each carries its position, to resume from.
    /// </summary>
    Task<IReadOnlyList<SequencedEvent>> GetHistoryAsync(string entityType, string entityId, long afterPosition, int limit, CancellationToken cancellationToken);

    /// <summary>Events in commit order after a sequence number (0: from the beginning).</summary>
    Task<IReadOnlyList<SequencedEvent>> ReadEventsAsync(long afterSequence, int limit, CancellationToken cancellationToken);

    /// <summary>A remembered answer to a POST, unless older than <paramref name="notBefore"/>.</summary>
    Task<StoredResponse?> FindResponseAsync(string caller, string requestId, DateTimeOffset notBefore, CancellationToken cancellationToken);

    /// <summary>Every ASP.NET Core Data Protection key stored, as XML: the key ring every instance shares.</summary>
    Task<IReadOnlyList<string>> ReadProtectionKeysAsync(CancellationToken cancellationToken);

    /// <summary>Stores a key under its unique name. Keys are append-only: one already stored under that name is kept.</summary>
    Task AddProtectionKeyAsync(string name, string xml, CancellationToken cancellationToken);

    /// <summary>Every team and product, live or deleted, for export.</summary>
    IAsyncEnumerable<ProductTeam> ExportTeamsAsync(CancellationToken cancellationToken);

    IAsyncEnumerable<Product> ExportProductsAsync(CancellationToken cancellationToken);

    /// <summary>Loads an export into an empty store, keeping ids, timestamps, versions and event order.</summary>
    Task ImportAsync(IReadOnlyList<ProductTeam> teams, IReadOnlyList<Product> products, IReadOnlyList<ChangeEvent> events, CancellationToken cancellationToken);

    /// <summary>A real round trip to the store; throws when it cannot be reached.</summary>
    Task PingAsync(CancellationToken cancellationToken);
}

/// <summary>Who wrote, when, and under which request: stamped on every event.</summary>
internal sealed record WriteContext(DateTimeOffset Now, string? RequestId, string? CorrelationId, string Actor)
{
    /// <summary>Set for a POST carrying <c>X-Request-Id</c>: the answer to remember with the write.</summary>
    public StoredResponse? Response { get; init; }
}

/// <summary>The answer to an idempotent POST, remembered for replay for <see cref="ReplayWindow"/>.</summary>
internal sealed record StoredResponse(string Caller, string RequestId, string Fingerprint, int Status, string Body, string? ETag, DateTimeOffset CreatedOn)
{
    public static readonly TimeSpan ReplayWindow = TimeSpan.FromHours(24);
}

internal sealed record SequencedEvent(long Sequence, ChangeEvent Event);

/// <summary>Live products of one organisation, or of one team (whose products are filed under its organisation too).</summary>
internal sealed record ProductFilter(string? TeamId, string OdsCode)
{
    public static ProductFilter ByTeam(ProductTeam team) => new(team.Id, team.OdsCode);

    public static ProductFilter ByOrganisation(string odsCode) => new(null, odsCode);
}

/// <summary>Where a product walk stopped: products come in (team id, product id) order within an organisation.</summary>
internal sealed record ProductPosition(string TeamId, string ProductId)
{
    /// <summary>
    /// Where a walk of one team's products resumes after <paramref name="after"/>: null when the
    /// position lies past the team (nothing is left), "" for the team's first product. A cursor from
    /// before the team's alias moved to another team may lie on either side of it.
    /// </summary>
    public static string? ResumeInTeam(ProductPosition? after, string teamId) =>
        (after is null ? -1 : string.CompareOrdinal(after.TeamId, teamId)) switch
        {
            < 0 => "",
            0 => after!.ProductId,
            _ => null,
        };
}

internal enum ProductCreation
{
    Created,
    TeamNotFound,
    ProductIdTaken,
}

internal enum Restoration
{
    Restored,
    VersionChanged,
    AliasTaken,
    TeamDeleted,
}

/// <summary>The outcome of deleting a team: deleted, blocked by live products, or not found (both null/empty).</summary>
internal sealed record TeamDeletion(ProductTeam? Deleted, IReadOnlyList<string> LiveProductIds)
{
    public static readonly TeamDeletion NotFound = new(null, []);
}

/// <summary>The store could not be reached or failed: the request may be retried.</summary>
internal sealed class StorageUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Another request with the same caller and <c>X-Request-Id</c> committed first.</summary>
internal sealed class DuplicateRequestException() : Exception("A request with this X-Request-Id was already answered.");

/// <summary>A valid request the store cannot hold for its size (a DynamoDB item is at most 400 KB): the client's to change, not an outage.</summary>
internal sealed class TooLargeToStoreException(string message) : Exception(message);
