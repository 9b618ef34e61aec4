using Cpm.Api.Docs;
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
        var teamNotFound = new ApiError(ErrorCodes.ResourceNotFound, ProductTeam.NotFoundMessage("808a36db-a52a-4130-b71e-d9cbcbaed15b"));
        var teamProducts = routes.MapGroup("/ProductTeam/{product_team_id}/Product").WithTags("Products");
        teamProducts.MapPost("", CreateAsync)
            .WithSummary("Register a product under a live team (by team id or alias) and issue its id")
            .Accepts<CreateProductBody>(ApiResults.JsonContentType)
            .Produces<ProductBody>(StatusCodes.Status201Created, ApiResults.JsonContentType)
            .WithErrors(
                CommonErrors.InvalidJson,
                new(ErrorCodes.ValidationError, $"{CreateProductRequest.Model}.name: string does not match regex \"{CreateProductRequest.NamePattern}\""),
                teamNotFound,
                CommonErrors.TooLarge);
        teamProducts.MapDelete("/{product_id}", DeleteAsync)
            .WithSummary("Delete a live product of the team")
            .Produces<OutcomeBody>(StatusCodes.Status200OK, ApiResults.JsonContentType)
            .WithErrors(teamNotFound, new ApiError(ErrorCodes.ResourceNotFound, Product.NotFoundInTeamMessage("f9518c12-6c83-4544-97db-d9dd1d64da97", "P.7GX-ANH")));

        var products = routes.MapGroup("/Product").WithTags("Products");
        products.MapGet("", SearchAsync)
            .WithSummary("Search live products by team (id or alias) or by organisation")
            .Produces<SearchResultsBody>(StatusCodes.Status200OK, ApiResults.JsonContentType)
            .WithErrors(new ApiError(ErrorCodes.ValidationError,
                $"{ProductSearch.Model}.__root__: Please provide exactly one valid query parameter: ('{ProductSearch.ProductTeamId}', '{ProductSearch.OrganisationCode}')."));
        products.MapGet("/{product_id}", GetAsync)
            .WithSummary("Read a live product by id (case-sensitive)")
            .Produces<ProductBody>(StatusCodes.Status200OK, ApiResults.JsonContentType)
            .WithErrors(new ApiError(ErrorCodes.ResourceNotFound, Product.NotFoundMessage("P.7GX-ANH")));
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
