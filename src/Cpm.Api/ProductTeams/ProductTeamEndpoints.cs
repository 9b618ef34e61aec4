using Cpm.Api.Docs;
using Cpm.Api.Http;
using Cpm.Api.Ods;
using Cpm.Api.Storage;
using Microsoft.AspNetCore.Mvc;

namespace Cpm.Api.ProductTeams;

internal static class ProductTeamEndpoints
{
    private const string ListModel = "ListProductTeamsQueryParams";
    private const string OrganisationCode = "organisation_code";
    private const string AliasTaken = "Item already exists";

    public static RouteGroupBuilder MapProductTeams(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/ProductTeam").WithTags("Product teams");
        group.MapPost("", CreateAsync)
            .WithSummary("Create a product team, after checking its ODS code")
            .Accepts<CreateProductTeamBody>(ApiResults.JsonContentType)
            .Produces<ProductTeamBody>(StatusCodes.Status201Created, ApiResults.JsonContentType)
            .WithErrors(
                CommonErrors.InvalidJson,
                new(ErrorCodes.MissingValue, $"{CreateProductTeamRequest.Model}.name: field required"),
                new(ErrorCodes.ValidationError, AliasTaken),
                new(ErrorCodes.UnprocessableEntity, InvalidOdsCode($"{OdsOptions.PublicBaseUrl}/F5H1R")),
                new(ErrorCodes.ServiceUnavailable, OdsUnavailable("F5H1R")),
                CommonErrors.TooLarge);
        group.MapGet("", ListAsync)
            .WithSummary("List an organisation's live product teams, ordered by id")
            .Produces<ProductTeamListBody>(StatusCodes.Status200OK, ApiResults.JsonContentType)
            .WithErrors(new ApiError(ErrorCodes.MissingValue, $"{ListModel}.{OrganisationCode}: field required"));
        group.MapGet("/{product_team_id}", GetAsync)
            .WithSummary("Read a live product team by its id or its alias")
            .Produces<ProductTeamBody>(StatusCodes.Status200OK, ApiResults.JsonContentType)
            .WithErrors(new ApiError(ErrorCodes.ResourceNotFound, ProductTeam.NotFoundMessage("808a36db-a52a-4130-b71e-d9cbcbaed15b")));
        group.MapDelete("/{product_team_id}", DeleteAsync)
            .WithSummary("Delete a product team that has no live products")
            .Produces<OutcomeBody>(StatusCodes.Status200OK, ApiResults.JsonContentType)
            .WithErrors(
                new(ErrorCodes.ResourceNotFound, ProductTeam.NotFoundMessage("808a36db-a52a-4130-b71e-d9cbcbaed15b")),
                new(ErrorCodes.Conflict, HasProducts(["P.FYK-7WA", "P.H47-LPE"])));
        return group;
    }

    private static async Task<IResult> CreateAsync(HttpContext context, ICpmStore store, OdsClient ods, TimeProvider time, CancellationToken cancellationToken)
    {
        var (body, bodyError) = await RequestBody.ReadObjectAsync(context.Request, cancellationToken);
        if (bodyError is not null)
        {
            return bodyError;
        }

        if (CreateProductTeamRequest.Validate(body!, out var errors) is not { } request)
        {
            return ApiResults.Errors(errors);
        }

        switch (await ods.CheckAsync(request.OdsCode, cancellationToken))
        {
            case OdsVerdict.Invalid:
                return ApiResults.Error(ErrorCodes.UnprocessableEntity, InvalidOdsCode(ods.UrlFor(request.OdsCode)));
            case OdsVerdict.Unavailable:
                context.Response.Headers.RetryAfter = "5";
                return ApiResults.Error(ErrorCodes.ServiceUnavailable, OdsUnavailable(request.OdsCode));
        }

        var write = WriteContext.For(context, time);
        var team = new ProductTeam(Guid.NewGuid().ToString(), request.Name, request.OdsCode, EntityStatus.Active, write.Now, null, null, request.Keys, 1);
        if (!await store.CreateTeamAsync(team, write, cancellationToken))
        {
            return ApiResults.Error(ErrorCodes.ValidationError, AliasTaken);
        }

        return ApiResults.Json(StatusCodes.Status201Created, team.WriteTo(new PythonJsonWriter()));
    }

    private static async Task<IResult> GetAsync([FromRoute(Name = "product_team_id")] string teamKey, ICpmStore store, CancellationToken cancellationToken) =>
        await store.FindTeamAsync(teamKey, cancellationToken) is { } team
            ? ApiResults.Json(StatusCodes.Status200OK, team.WriteTo(new PythonJsonWriter()))
            : ApiResults.NotFound(ProductTeam.NotFoundMessage(teamKey));

    private static async Task<IResult> ListAsync(HttpRequest request, ICpmStore store, CancellationToken cancellationToken)
    {
        var model = new ModelErrors(ListModel);
        var query = QueryParameters.Read(request);
        if (!query.TryGetValue(OrganisationCode, out var odsCode))
        {
            model.Missing(OrganisationCode);
        }

        model.RejectUnknownFields(query.Keys, OrganisationCode);
        if (model.HasErrors)
        {
            return ApiResults.Errors(model.Errors);
        }

        var json = new PythonJsonWriter().StartObject().Key("results").StartArray();
        foreach (var team in await store.ListTeamsAsync(odsCode!, cancellationToken))
        {
            team.WriteTo(json);
        }

        return ApiResults.Json(StatusCodes.Status200OK, json.EndArray().EndObject());
    }

    private static async Task<IResult> DeleteAsync([FromRoute(Name = "product_team_id")] string teamKey, HttpContext context, ICpmStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await store.FindTeamAsync(teamKey, cancellationToken) is not { } team)
        {
            return ApiResults.NotFound(ProductTeam.NotFoundMessage(teamKey));
        }

        var deletion = await store.DeleteTeamAsync(team.Id, WriteContext.For(context, time), cancellationToken);
        if (deletion.LiveProductIds.Count > 0)
        {
            return ApiResults.Error(ErrorCodes.Conflict, HasProducts(deletion.LiveProductIds));
        }

        return deletion.Deleted is not null
            ? ApiResults.Deleted(team.Id)
            : ApiResults.NotFound(ProductTeam.NotFoundMessage(teamKey));
    }

    private static string InvalidOdsCode(string url) => $"Invalid ODS Code: could not resolve '{url}'";

    private static string OdsUnavailable(string odsCode) =>
        $"ODS is unavailable: could not check ODS code '{odsCode}'; nothing was created, try again later";

    private static string HasProducts(IEnumerable<string> productIds) =>
        $"Product Team cannot be deleted as it still has associated Product Ids [{string.Join(", ", productIds.Order(StringComparer.Ordinal).Select(id => $"'{id}'"))}]";
}
