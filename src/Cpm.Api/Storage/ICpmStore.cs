using Cpm.Api.Auth;
using Cpm.Api.Http;
using Cpm.Api.Products;
using Cpm.Api.ProductTeams;

namespace Cpm.Api.Storage;

/// <summary>
/// The one storage port: exactly the access patterns the API needs. Every write is atomic and
/// records its <see cref="ChangeEvent"/> in the same transaction.
/// </summary>
internal interface ICpmStore
{
    /// <summary>A live team by its id or its alias.</summary>
    Task<ProductTeam?> FindTeamAsync(string idOrAlias, CancellationToken cancellationToken);

    /// <summary>Live teams of an organisation, ordered by id.</summary>
    Task<IReadOnlyList<ProductTeam>> ListTeamsAsync(string odsCode, CancellationToken cancellationToken);

    /// <summary>False when the team's id or alias is already taken.</summary>
    Task<bool> CreateTeamAsync(ProductTeam team, WriteContext context, CancellationToken cancellationToken);

    Task<TeamDeletion> DeleteTeamAsync(string teamId, WriteContext context, CancellationToken cancellationToken);

    /// <summary>A live product by id (ids are case-sensitive).</summary>
    Task<Product?> FindProductAsync(string productId, CancellationToken cancellationToken);

    Task<ProductCreation> CreateProductAsync(Product product, WriteContext context, CancellationToken cancellationToken);

    /// <summary>The deleted product, or null when the team has no such live product.</summary>
    Task<Product?> DeleteProductAsync(string teamId, string productId, WriteContext context, CancellationToken cancellationToken);

    /// <summary>Live products of a team or of an organisation, ordered by organisation, team id, product id.</summary>
    Task<IReadOnlyList<Product>> FindProductsAsync(ProductFilter filter, CancellationToken cancellationToken);

    /// <summary>A real round trip to the store; throws when it cannot be reached.</summary>
    Task PingAsync(CancellationToken cancellationToken);
}

/// <summary>Who wrote, when, and under which request: stamped on every event.</summary>
internal sealed record WriteContext(DateTimeOffset Now, string? RequestId, string? CorrelationId, string Actor)
{
    public static WriteContext For(HttpContext context, TimeProvider time) => new(
        PythonTime.Truncate(time.GetUtcNow()),
        RequestContextMiddleware.HeaderOrNull(context.Request, RequestContextMiddleware.RequestIdHeader),
        RequestContextMiddleware.HeaderOrNull(context.Request, RequestContextMiddleware.CorrelationIdHeader),
        Caller.Current(context).Name);
}

internal sealed record ProductFilter(string? TeamId, string? OdsCode)
{
    public static ProductFilter ByTeam(string teamId) => new(teamId, null);

    public static ProductFilter ByOrganisation(string odsCode) => new(null, odsCode);
}

internal enum ProductCreation
{
    Created,
    TeamNotFound,
    ProductIdTaken,
}

/// <summary>The outcome of deleting a team: deleted, blocked by live products, or not found (both null/empty).</summary>
internal sealed record TeamDeletion(ProductTeam? Deleted, IReadOnlyList<string> LiveProductIds)
{
    public static readonly TeamDeletion NotFound = new(null, []);
}

/// <summary>The store could not be reached or failed: the request may be retried.</summary>
internal sealed class StorageUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
