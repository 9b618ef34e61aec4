using Cpm.Api.Http;
using Cpm.Api.ProductTeams;
using Cpm.Api.Storage;
using Microsoft.AspNetCore.Mvc;

namespace Cpm.Api.Products;

internal static class ProductEndpoints
{
    // A clash in 244 million is rare; ten in a row means something is wrong with the store.
    private const int MaxIdAttempts = 10;

    public static void MapProducts(this IEndpointRouteBuilder routes)
    {
        var teamProducts = routes.MapGroup("/ProductTeam/{product_team_id}/Product").WithTags("Products");
        teamProducts.MapPost("", CreateAsync);
        teamProducts.MapDelete("/{product_id}", DeleteAsync);

        var products = routes.MapGroup("/Product").WithTags("Products");
        products.MapGet("", SearchAsync);
        products.MapGet("/{product_id}", GetAsync);
    }

    private static async Task<IResult> CreateAsync(
        [FromRoute(Name = "product_team_id")] string teamKey,
        HttpContext context,
        ICpmStore store,
        ProductIdGenerator ids,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var (body, bodyError) = await RequestBody.ReadObjectAsync(context.Request, cancellationToken);
        if (bodyError is not null)
        {
            return bodyError;
        }

        if (CreateProductRequest.Validate(body!, out var errors) is not { } request)
        {
            return ApiResults.Errors(errors);
        }

        if (await store.FindTeamAsync(teamKey, cancellationToken) is not { } team)
        {
            return ApiResults.NotFound(ProductTeam.NotFoundMessage(teamKey));
        }

        var write = WriteContext.For(context, time);
        for (var attempt = 0; attempt < MaxIdAttempts; attempt++)
        {
            var product = new Product(ids.Next(), team.Id, team.Alias, request.Name, team.OdsCode, EntityStatus.Active, write.Now, null, null, 1);
            switch (await store.CreateProductAsync(product, write, cancellationToken))
            {
                case ProductCreation.Created:
                    return ApiResults.Json(StatusCodes.Status201Created, product.WriteTo(new PythonJsonWriter()));
                case ProductCreation.TeamNotFound:
                    return ApiResults.NotFound(ProductTeam.NotFoundMessage(teamKey));
            }
        }

        throw new StorageUnavailableException($"No free product id after {MaxIdAttempts} attempts.");
    }

    private static async Task<IResult> GetAsync([FromRoute(Name = "product_id")] string productId, ICpmStore store, CancellationToken cancellationToken) =>
        await store.FindProductAsync(productId, cancellationToken) is { } product
            ? ApiResults.Json(StatusCodes.Status200OK, product.WriteTo(new PythonJsonWriter()))
            : ApiResults.NotFound(Product.NotFoundMessage(productId));

    private static async Task<IResult> DeleteAsync(
        [FromRoute(Name = "product_team_id")] string teamKey,
        [FromRoute(Name = "product_id")] string productId,
        HttpContext context,
        ICpmStore store,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (await store.FindTeamAsync(teamKey, cancellationToken) is not { } team)
        {
            return ApiResults.NotFound(ProductTeam.NotFoundMessage(teamKey));
        }

        return await store.DeleteProductAsync(team.Id, productId, WriteContext.For(context, time), cancellationToken) is not null
            ? ApiResults.Deleted(productId)
            : ApiResults.NotFound(Product.NotFoundInTeamMessage(team.Id, productId));
    }

    private static async Task<IResult> SearchAsync(HttpRequest request, ICpmStore store, CancellationToken cancellationToken)
    {
        if (ProductSearch.Validate(QueryParameters.Read(request), out var errors) is not var (parameter, value))
        {
            return ApiResults.Errors(errors);
        }

        IReadOnlyList<Product> products = [];
        if (parameter == ProductSearch.OrganisationCode)
        {
            products = await store.FindProductsAsync(ProductFilter.ByOrganisation(value), cancellationToken);
        }
        else if (await store.FindTeamAsync(value, cancellationToken) is { } team)
        {
            products = await store.FindProductsAsync(ProductFilter.ByTeam(team.Id), cancellationToken);
        }

        return ApiResults.Json(StatusCodes.Status200OK, ProductSearch.WriteResults(new PythonJsonWriter().StartObject(), products).EndObject());
    }
}
