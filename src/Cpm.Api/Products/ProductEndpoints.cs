using Cpm.Api.Auth;
using Cpm.Api.Docs;
using Cpm.Api.Entities;
using Cpm.Api.Events;
using Cpm.Api.Http;
using Cpm.Api.ProductTeams;
using Cpm.Api.Storage;
using Cpm.Api.Wire;
using Microsoft.AspNetCore.Mvc;

namespace Cpm.Api.Products;

internal static class ProductEndpoints
{
    private const string ReadModel = "ReadCpmProductQueryParams";
    private const string ExampleTeamId = "f9518c12-6c83-4544-97db-d9dd1d64da97";
    private const string ExampleProductId = "P.7GX-ANH";

    // A clash in 244 million is rare; ten in a row means something is wrong with the store.
    private const int MaxIdAttempts = 10;

    public static void MapProducts(this IEndpointRouteBuilder routes)
    {
        var teamNotFound = new ApiError(ErrorCodes.ResourceNotFound, ProductTeam.NotFoundMessage("808a36db-a52a-4130-b71e-d9cbcbaed15b"));
        var notInTeam = new ApiError(ErrorCodes.ResourceNotFound, Product.NotFoundInTeamMessage(ExampleTeamId, ExampleProductId));
        var notFound = new ApiError(ErrorCodes.ResourceNotFound, Product.NotFoundMessage(ExampleProductId));

        var teamProducts = routes.MapGroup("/ProductTeam/{product_team_id}/Product").WithTags("Products");
        teamProducts.MapPost("", CreateAsync)
            .WithSummary("Register a product under a live team (by team id or alias) and issue its id")
            .DocumentsJsonBody<CreateProductBody>()
            .Produces<ProductBody>(StatusCodes.Status201Created, ApiResults.JsonContentType)
            .WithErrors(
                CommonErrors.InvalidJson,
                new(ErrorCodes.ValidationError, $"{CreateProductRequest.Model}.name: string does not match regex \"{CreateProductRequest.NamePattern}\""),
                teamNotFound,
                CommonErrors.TooLarge)
            .Idempotent();
        teamProducts.MapPatch("/{product_id}", RenameAsync)
            .WithSummary("Rename a live product of the team; If-Match with its ETag is required; the id never changes")
            .DocumentsJsonBody<RenameBody>()
            .Produces<ProductBody>(StatusCodes.Status200OK, ApiResults.JsonContentType)
            .WithErrors(
                new(ErrorCodes.ValidationError, $"{RenameProductRequest.Model}.keys: extra fields not permitted"),
                teamNotFound,
                notInTeam,
                new(ErrorCodes.PreconditionRequired, Preconditions.Required),
                new(ErrorCodes.PreconditionFailed, Preconditions.Failed),
                CommonErrors.TooLarge);
        teamProducts.MapDelete("/{product_id}", DeleteAsync)
            .WithSummary("Delete a live product of the team")
            .Produces<OutcomeBody>(StatusCodes.Status200OK, ApiResults.JsonContentType)
            .WithErrors(teamNotFound, notInTeam);
        teamProducts.MapPost("/{product_id}/Restore", RestoreAsync)
            .WithSummary("Bring back a deleted product of the team (team by id or live alias); the team must be live")
            .Produces<ProductBody>(StatusCodes.Status200OK, ApiResults.JsonContentType)
            .WithErrors(teamNotFound, notInTeam, new(ErrorCodes.Conflict, EntityStatus.NotDeletedMessage(ExampleProductId)), new(ErrorCodes.Conflict, TeamDeleted(ExampleTeamId)))
            .Idempotent();

        var products = routes.MapGroup("/Product").WithTags("Products");
        products.MapGet("", SearchAsync)
            .WithSummary("Search live products by team (id or alias) or by organisation; limit and cursor page it")
            .Produces<SearchResultsBody>(StatusCodes.Status200OK, ApiResults.JsonContentType)
            .WithErrors(new ApiError(ErrorCodes.ValidationError,
                $"{ProductSearch.Model}.__root__: Please provide exactly one valid query parameter: ('{ProductSearch.ProductTeamId}', '{ProductSearch.OrganisationCode}')."));
        products.MapGet("/{product_id}", GetAsync)
            .WithSummary("Read a product by id (case-sensitive; include_deleted=true: deleted ones too)")
            .Produces<ProductBody>(StatusCodes.Status200OK, ApiResults.JsonContentType)
            .WithErrors(notFound);
        products.MapGet("/{product_id}/History", HistoryAsync)
            .WithSummary("The product's events, oldest first, deleted products included; limit and cursor page it")
            .Produces<HistoryBody>(StatusCodes.Status200OK, ApiResults.JsonContentType)
            .WithErrors(notFound);
    }

    private static async Task<IResult> CreateAsync(
        [FromRoute(Name = "product_team_id")] string teamKey,
        HttpContext context,
        ICpmStore store,
        KnownTeams teams,
        ProductIdGenerator ids,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var (request, invalid) = await RequestBody.ReadValidAsync(context.Request, CreateProductRequest.Validate, cancellationToken);
        if (request is null)
        {
            return invalid!;
        }

        if (await teams.FindAsync(teamKey, cancellationToken) is not { } team)
        {
            return ApiResults.NotFound(ProductTeam.NotFoundMessage(teamKey));
        }

        if (OrganisationScope.Deny(context, team.OdsCode) is { } denied)
        {
            // Refused only while the team is live: a remembered team may have been deleted since.
            return await store.FindTeamAsync(team.Id, cancellationToken) is null
                ? ApiResults.NotFound(ProductTeam.NotFoundMessage(teamKey))
                : denied;
        }

        var write = context.WriteContext(time);
        for (var attempt = 0; attempt < MaxIdAttempts; attempt++)
        {
            var product = new Product(ids.Next(), team.Id, team.Alias, request.Name, team.OdsCode, EntityStatus.Active, write.Now, null, null, 1);
            var created = ApiResults.Json(StatusCodes.Status201Created, product.WriteTo(new PythonJsonWriter()), product.ETag);
            switch (await store.CreateProductAsync(product, write.Remembering(context, created), cancellationToken))
            {
                case ProductCreation.Created:
                    return created;
                case ProductCreation.TeamNotFound:
                    return ApiResults.NotFound(ProductTeam.NotFoundMessage(teamKey));
            }
        }

        throw new StorageUnavailableException($"No free product id after {MaxIdAttempts} attempts.");
    }

    private static async Task<IResult> GetAsync([FromRoute(Name = "product_id")] string productId, HttpRequest request, ICpmStore store, CancellationToken cancellationToken)
    {
        var includeDeleted = IncludeDeleted.Read(request, ReadModel, out var error);
        if (error is not null)
        {
            return error;
        }

        var product = includeDeleted
            ? await store.GetProductAsync(productId, cancellationToken)
            : await store.FindProductAsync(productId, cancellationToken);
        return product is not null
            ? ApiResults.Json(StatusCodes.Status200OK, product.WriteTo(new PythonJsonWriter()), product.ETag)
            : ApiResults.NotFound(Product.NotFoundMessage(productId));
    }

    private static async Task<IResult> RenameAsync(
        [FromRoute(Name = "product_team_id")] string teamKey,
        [FromRoute(Name = "product_id")] string productId,
        HttpContext context,
        ICpmStore store,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var (name, invalid) = await RequestBody.ReadValidAsync(context.Request, RenameProductRequest.Validate, cancellationToken);
        if (name is null)
        {
            return invalid!;
        }

        if (await store.FindTeamAsync(teamKey, cancellationToken) is not { } team)
        {
            return ApiResults.NotFound(ProductTeam.NotFoundMessage(teamKey));
        }

        if (await store.FindProductAsync(productId, cancellationToken) is not { } product || product.TeamId != team.Id)
        {
            return ApiResults.NotFound(Product.NotFoundInTeamMessage(team.Id, productId));
        }

        if (OrganisationScope.Deny(context, team.OdsCode) is { } denied)
        {
            return denied;
        }

        if (Preconditions.Check(context.Request, product.Version, product.ETag, context.Response) is { } failed)
        {
            return failed;
        }

        if (name == product.Name)
        {
            return ApiResults.Json(StatusCodes.Status200OK, product.WriteTo(new PythonJsonWriter()), product.ETag);
        }

        var write = context.WriteContext(time);
        var renamed = product.Renamed(name, write.Now);
        if (!await store.RenameProductAsync(renamed, product.Version, write, cancellationToken))
        {
            var current = await store.FindProductAsync(productId, cancellationToken);
            return Preconditions.LostRace(context.Response, current?.ETag, ApiResults.NotFound(Product.NotFoundInTeamMessage(team.Id, productId)));
        }

        return ApiResults.Json(StatusCodes.Status200OK, renamed.WriteTo(new PythonJsonWriter()), renamed.ETag);
    }

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

        if (OrganisationScope.Deny(context, team.OdsCode) is { } denied)
        {
            return denied;
        }

        return await store.DeleteProductAsync(team.Id, productId, context.WriteContext(time), cancellationToken) is not null
            ? ApiResults.Deleted(productId)
            : ApiResults.NotFound(Product.NotFoundInTeamMessage(team.Id, productId));
    }

    private static async Task<IResult> RestoreAsync(
        [FromRoute(Name = "product_team_id")] string teamKey,
        [FromRoute(Name = "product_id")] string productId,
        HttpContext context,
        ICpmStore store,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        // The team by id (deleted or not) or by live alias: a deleted team's alias may belong to another team now.
        var team = await store.FindTeamAsync(teamKey, cancellationToken) ?? await store.GetTeamAsync(teamKey, cancellationToken);
        if (team is null)
        {
            return ApiResults.NotFound(ProductTeam.NotFoundMessage(teamKey));
        }

        if (await store.GetProductAsync(productId, cancellationToken) is not { } product || product.TeamId != team.Id)
        {
            return ApiResults.NotFound(Product.NotFoundInTeamMessage(team.Id, productId));
        }

        if (OrganisationScope.Deny(context, team.OdsCode) is { } denied)
        {
            return denied;
        }

        if (product.IsActive)
        {
            return ApiResults.Error(ErrorCodes.Conflict, EntityStatus.NotDeletedMessage(product.Id));
        }

        if (!team.IsActive)
        {
            return ApiResults.Error(ErrorCodes.Conflict, TeamDeleted(team.Id));
        }

        var write = context.WriteContext(time);
        var restored = product.Restored(write.Now);
        var answer = ApiResults.Json(StatusCodes.Status200OK, restored.WriteTo(new PythonJsonWriter()), restored.ETag);
        return await store.RestoreProductAsync(restored, product.Version, write.Remembering(context, answer), cancellationToken) switch
        {
            Restoration.Restored => answer,
            Restoration.TeamDeleted => ApiResults.Error(ErrorCodes.Conflict, TeamDeleted(team.Id)),
            _ => ApiResults.Error(ErrorCodes.Conflict, EntityStatus.NotDeletedMessage(product.Id)),
        };
    }

    private static async Task<IResult> HistoryAsync([FromRoute(Name = "product_id")] string productId, HttpRequest request, ICpmStore store, CancellationToken cancellationToken)
    {
        if (HistoryQuery.Read(request, ChangeEvent.ProductEntity, productId, out var invalid) is not { } query)
        {
            return invalid!;
        }

        return await store.GetProductAsync(productId, cancellationToken) is not null
            ? await query.AnswerAsync(store, ChangeEvent.ProductEntity, productId, cancellationToken)
            : ApiResults.NotFound(Product.NotFoundMessage(productId));
    }

    private static async Task<IResult> SearchAsync(HttpRequest request, ICpmStore store, CancellationToken cancellationToken)
    {
        var query = QueryParameters.Read(request);
        if (ProductSearch.Validate(query, out var errors) is not var (parameter, value, page))
        {
            return ApiResults.Errors(errors);
        }

        ProductFilter? filter = null;
        if (parameter == ProductSearch.OrganisationCode)
        {
            filter = ProductFilter.ByOrganisation(value);
        }
        else if (await store.FindTeamAsync(value, cancellationToken) is { } team)
        {
            filter = ProductFilter.ByTeam(team);
        }

        if (page is null)
        {
            return JsonPieces.Result(async (pieces, token) =>
            {
                var results = new ProductSearch.ResultsWriter(pieces.Json.StartObject());
                if (filter is not null)
                {
                    await pieces.WriteAllAsync<Product>(
                        (last, limit, ct) => store.FindProductsAsync(filter, last is null ? null : new ProductPosition(last.TeamId, last.Id), limit, ct),
                        results.Add,
                        token);
                }

                results.End().EndObject();
            });
        }

        var start = page.After is [var teamId, var productId] ? new ProductPosition(teamId, productId) : null;
        IReadOnlyList<Product> found = filter is null ? [] : await store.FindProductsAsync(filter, start, page.Limit + 1, cancellationToken);
        var json = new PythonJsonWriter().StartObject();
        var pageResults = new ProductSearch.ResultsWriter(json);
        foreach (var product in found.Take(page.Limit))
        {
            pageResults.Add(product);
        }

        var last = found.Count > page.Limit ? found[page.Limit - 1] : null;
        pageResults.End().Property("next_cursor", last is null ? null : Paging.Encode(ProductSearch.Scope(parameter, value), last.TeamId, last.Id));
        return ApiResults.Json(StatusCodes.Status200OK, json.EndObject());
    }

    private static string TeamDeleted(string teamId) => $"Product Team {teamId} is deleted; restore it first";
}
