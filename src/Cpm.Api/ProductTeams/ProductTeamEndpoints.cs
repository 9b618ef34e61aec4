using Cpm.Api.Http;
using Cpm.Api.Ods;
using Cpm.Api.Storage;
using Microsoft.AspNetCore.Mvc;

namespace Cpm.Api.ProductTeams;

internal static class ProductTeamEndpoints
{
    private const string ListModel = "ListProductTeamsQueryParams";
    private const string OrganisationCode = "organisation_code";

    public static RouteGroupBuilder MapProductTeams(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/ProductTeam").WithTags("Product teams");
        group.MapPost("", CreateAsync);
        group.MapGet("", ListAsync);
        group.MapGet("/{product_team_id}", GetAsync);
        group.MapDelete("/{product_team_id}", DeleteAsync);
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
                return ApiResults.Error(ErrorCodes.UnprocessableEntity, $"Invalid ODS Code: could not resolve '{ods.UrlFor(request.OdsCode)}'");
            case OdsVerdict.Unavailable:
                context.Response.Headers.RetryAfter = "5";
                return ApiResults.Error(ErrorCodes.ServiceUnavailable,
                    $"ODS is unavailable: could not check ODS code '{request.OdsCode}'; nothing was created, try again later");
        }

        var write = WriteContext.For(context, time);
        var team = new ProductTeam(Guid.NewGuid().ToString(), request.Name, request.OdsCode, EntityStatus.Active, write.Now, null, null, request.Keys, 1);
        if (!await store.CreateTeamAsync(team, write, cancellationToken))
        {
            return ApiResults.Error(ErrorCodes.ValidationError, "Item already exists");
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
            var ids = string.Join(", ", deletion.LiveProductIds.Order(StringComparer.Ordinal).Select(id => $"'{id}'"));
            return ApiResults.Error(ErrorCodes.Conflict, $"Product Team cannot be deleted as it still has associated Product Ids [{ids}]");
        }

        return deletion.Deleted is not null
            ? ApiResults.Deleted(team.Id)
            : ApiResults.NotFound(ProductTeam.NotFoundMessage(teamKey));
    }
}
