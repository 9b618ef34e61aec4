using Cpm.Api.Auth;
using Cpm.Api.Docs;
using Cpm.Api.Entities;
using Cpm.Api.Events;
using Cpm.Api.Http;
using Cpm.Api.Ods;
using Cpm.Api.Storage;
using Cpm.Api.Wire;
using Microsoft.AspNetCore.Mvc;

namespace Cpm.Api.ProductTeams;

internal static class ProductTeamEndpoints
{
    private const string ListModel = "ListProductTeamsQueryParams";
    private const string ReadModel = "ReadProductTeamQueryParams";
    private const string OrganisationCode = "organisation_code";
    private const string AliasTaken = "Item already exists";
    private const string ExampleId = "808a36db-a52a-4130-b71e-d9cbcbaed15b";

    public static RouteGroupBuilder MapProductTeams(this IEndpointRouteBuilder routes)
    {
        var notFound = new ApiError(ErrorCodes.ResourceNotFound, ProductTeam.NotFoundMessage(ExampleId));
        var group = routes.MapGroup("/ProductTeam").WithTags("Product teams");
        group.MapPost("", CreateAsync)
            .WithSummary("Create a product team, after checking its ODS code")
            .DocumentsJsonBody<CreateProductTeamBody>()
            .Produces<ProductTeamBody>(StatusCodes.Status201Created, ApiResults.JsonContentType)
            .WithErrors(
                CommonErrors.InvalidJson,
                new(ErrorCodes.MissingValue, $"{CreateProductTeamRequest.Model}.name: field required"),
                new(ErrorCodes.ValidationError, AliasTaken),
                new(ErrorCodes.UnprocessableEntity, InvalidOdsCode($"{OdsOptions.PublicBaseUrl}/F5H1R")),
                new(ErrorCodes.ServiceUnavailable, OdsUnavailable("F5H1R")),
                CommonErrors.TooLarge)
            .Idempotent();
        group.MapGet("", ListAsync)
            .WithSummary("List an organisation's live product teams, ordered by id; limit and cursor page it")
            .Produces<ProductTeamListBody>(StatusCodes.Status200OK, ApiResults.JsonContentType)
            .WithErrors(new ApiError(ErrorCodes.MissingValue, $"{ListModel}.{OrganisationCode}: field required"));
        group.MapGet("/{product_team_id}", GetAsync)
            .WithSummary("Read a product team by its id or its alias (include_deleted=true: deleted ones too, by id)")
            .Produces<ProductTeamBody>(StatusCodes.Status200OK, ApiResults.JsonContentType)
            .WithErrors(notFound);
        group.MapPatch("/{product_team_id}", RenameAsync)
            .WithSummary("Rename a live product team; If-Match with its ETag is required")
            .DocumentsJsonBody<RenameBody>()
            .Produces<ProductTeamBody>(StatusCodes.Status200OK, ApiResults.JsonContentType)
            .WithErrors(
                new(ErrorCodes.ValidationError, $"{RenameProductTeamRequest.Model}.ods_code: extra fields not permitted"),
                notFound,
                new(ErrorCodes.PreconditionRequired, Preconditions.Required),
                new(ErrorCodes.PreconditionFailed, Preconditions.Failed),
                CommonErrors.TooLarge);
        group.MapDelete("/{product_team_id}", DeleteAsync)
            .WithSummary("Delete a product team that has no live products")
            .Produces<OutcomeBody>(StatusCodes.Status200OK, ApiResults.JsonContentType)
            .WithErrors(notFound, new(ErrorCodes.Conflict, HasProducts(["P.FYK-7WA", "P.H47-LPE"])));
        group.MapPost("/{product_team_id}/Restore", RestoreAsync)
            .WithSummary("Bring back a deleted product team, by its own id; its products stay deleted")
            .Produces<ProductTeamBody>(StatusCodes.Status200OK, ApiResults.JsonContentType)
            .WithErrors(notFound, new(ErrorCodes.Conflict, EntityStatus.NotDeletedMessage(ExampleId)), new(ErrorCodes.Conflict, AliasNowTaken(ExampleId)))
            .Idempotent();
        group.MapGet("/{product_team_id}/History", HistoryAsync)
            .WithSummary("The team's events, oldest first (by id, or by alias while the team is live); limit and cursor page it")
            .Produces<HistoryBody>(StatusCodes.Status200OK, ApiResults.JsonContentType)
            .WithErrors(notFound);
        return group;
    }

    private static async Task<IResult> CreateAsync(HttpContext context, ICpmStore store, OdsClient ods, TimeProvider time, CancellationToken cancellationToken)
    {
        var (request, invalid) = await RequestBody.ReadValidAsync(context.Request, CreateProductTeamRequest.Validate, cancellationToken);
        if (request is null)
        {
            return invalid!;
        }

        if (OrganisationScope.Deny(context, request.OdsCode) is { } denied)
        {
            return denied;
        }

        switch (await ods.CheckAsync(request.OdsCode, cancellationToken))
        {
            case OdsVerdict.Invalid:
                return ApiResults.Error(ErrorCodes.UnprocessableEntity, InvalidOdsCode(ods.UrlFor(request.OdsCode)));
            case OdsVerdict.Unavailable:
                context.Response.Headers.RetryAfter = "5";
                return ApiResults.Error(ErrorCodes.ServiceUnavailable, OdsUnavailable(request.OdsCode));
        }

        var write = context.WriteContext(time);
        var team = new ProductTeam(Guid.NewGuid().ToString(), request.Name, request.OdsCode, EntityStatus.Active, write.Now, null, null, request.Keys, 1);
        var created = ApiResults.Json(StatusCodes.Status201Created, team.WriteTo(new PythonJsonWriter()), team.ETag);
        return await store.CreateTeamAsync(team, write.Remembering(context, created), cancellationToken)
            ? created
            : ApiResults.Error(ErrorCodes.ValidationError, AliasTaken);
    }

    private static async Task<IResult> GetAsync([FromRoute(Name = "product_team_id")] string teamKey, HttpRequest request, ICpmStore store, CancellationToken cancellationToken)
    {
        var includeDeleted = IncludeDeleted.Read(request, ReadModel, out var error);
        if (error is not null)
        {
            return error;
        }

        var team = await store.FindTeamAsync(teamKey, cancellationToken)
            ?? (includeDeleted ? await store.GetTeamAsync(teamKey, cancellationToken) : null);
        return team is not null
            ? ApiResults.Json(StatusCodes.Status200OK, team.WriteTo(new PythonJsonWriter()), team.ETag)
            : ApiResults.NotFound(ProductTeam.NotFoundMessage(teamKey));
    }

    private static async Task<IResult> ListAsync(HttpRequest request, ICpmStore store, CancellationToken cancellationToken)
    {
        var model = new ModelErrors(ListModel);
        var query = QueryParameters.Read(request);
        if (!query.TryGetValue(OrganisationCode, out var odsCode))
        {
            model.Missing(OrganisationCode);
        }

        var scope = $"teams:{odsCode}";
        var page = Paging.Read(model, query, scope);
        model.RejectUnknownFields(query.Keys, OrganisationCode, Paging.LimitField, Paging.CursorField);
        Paging.RequireLimitWithCursor(model, query);
        if (model.HasErrors)
        {
            return ApiResults.Errors(model.Errors);
        }

        if (page is null)
        {
            return JsonPieces.Result(async (pieces, token) =>
            {
                pieces.Json.StartObject().Key("results").StartArray();
                await pieces.WriteAllAsync<ProductTeam>(
                    (last, limit, ct) => store.ListTeamsAsync(odsCode!, last?.Id, limit, ct),
                    team => team.WriteTo(pieces.Json),
                    token);
                pieces.Json.EndArray().EndObject();
            });
        }

        var found = await store.ListTeamsAsync(odsCode!, page.After?[0], page.Limit + 1, cancellationToken);
        var json = new PythonJsonWriter().StartObject().Key("results").StartArray();
        foreach (var team in found.Take(page.Limit))
        {
            team.WriteTo(json);
        }

        json.EndArray().Property("next_cursor", found.Count > page.Limit ? Paging.Encode(scope, found[page.Limit - 1].Id) : null);
        return ApiResults.Json(StatusCodes.Status200OK, json.EndObject());
    }

    private static async Task<IResult> RenameAsync([FromRoute(Name = "product_team_id")] string teamKey, HttpContext context, ICpmStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var (name, invalid) = await RequestBody.ReadValidAsync(context.Request, RenameProductTeamRequest.Validate, cancellationToken);
        if (name is null)
        {
            return invalid!;
        }

        if (await store.FindTeamAsync(teamKey, cancellationToken) is not { } team)
        {
            return ApiResults.NotFound(ProductTeam.NotFoundMessage(teamKey));
        }

        if (OrganisationScope.Deny(context, team.OdsCode) is { } denied)
        {
            return denied;
        }

        if (Preconditions.Check(context.Request, team.Version, team.ETag, context.Response) is { } failed)
        {
            return failed;
        }

        if (name == team.Name)
        {
            return ApiResults.Json(StatusCodes.Status200OK, team.WriteTo(new PythonJsonWriter()), team.ETag);
        }

        var write = context.WriteContext(time);
        var renamed = team.Renamed(name, write.Now);
        if (!await store.RenameTeamAsync(renamed, team.Version, write, cancellationToken))
        {
            var current = await store.FindTeamAsync(team.Id, cancellationToken);
            return Preconditions.LostRace(context.Response, current?.ETag, ApiResults.NotFound(ProductTeam.NotFoundMessage(teamKey)));
        }

        return ApiResults.Json(StatusCodes.Status200OK, renamed.WriteTo(new PythonJsonWriter()), renamed.ETag);
    }

    private static async Task<IResult> DeleteAsync([FromRoute(Name = "product_team_id")] string teamKey, HttpContext context, ICpmStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await store.FindTeamAsync(teamKey, cancellationToken) is not { } team)
        {
            return ApiResults.NotFound(ProductTeam.NotFoundMessage(teamKey));
        }

        if (OrganisationScope.Deny(context, team.OdsCode) is { } denied)
        {
            return denied;
        }

        var deletion = await store.DeleteTeamAsync(team.Id, context.WriteContext(time), cancellationToken);
        if (deletion.LiveProductIds.Count > 0)
        {
            return ApiResults.Error(ErrorCodes.Conflict, HasProducts(deletion.LiveProductIds));
        }

        return deletion.Deleted is not null
            ? ApiResults.Deleted(team.Id)
            : ApiResults.NotFound(ProductTeam.NotFoundMessage(teamKey));
    }

    private static async Task<IResult> RestoreAsync([FromRoute(Name = "product_team_id")] string teamId, HttpContext context, ICpmStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await store.GetTeamAsync(teamId, cancellationToken) is not { } team)
        {
            return ApiResults.NotFound(ProductTeam.NotFoundMessage(teamId));
        }

        if (OrganisationScope.Deny(context, team.OdsCode) is { } denied)
        {
            return denied;
        }

        if (team.IsActive)
        {
            return ApiResults.Error(ErrorCodes.Conflict, EntityStatus.NotDeletedMessage(team.Id));
        }

        var write = context.WriteContext(time);
        var restored = team.Restored(write.Now);
        var answer = ApiResults.Json(StatusCodes.Status200OK, restored.WriteTo(new PythonJsonWriter()), restored.ETag);
        return await store.RestoreTeamAsync(restored, team.Version, write.Remembering(context, answer), cancellationToken) switch
        {
            Restoration.Restored => answer,
            Restoration.AliasTaken => ApiResults.Error(ErrorCodes.Conflict, AliasNowTaken(restored.Alias!)),
            _ => ApiResults.Error(ErrorCodes.Conflict, EntityStatus.NotDeletedMessage(team.Id)),
        };
    }

    private static async Task<IResult> HistoryAsync([FromRoute(Name = "product_team_id")] string teamKey, HttpRequest request, ICpmStore store, CancellationToken cancellationToken)
    {
        if (HistoryQuery.Read(request, ChangeEvent.TeamEntity, teamKey, out var invalid) is not { } query)
        {
            return invalid!;
        }

        var team = await store.FindTeamAsync(teamKey, cancellationToken) ?? await store.GetTeamAsync(teamKey, cancellationToken);
        return team is not null
            ? await query.AnswerAsync(store, ChangeEvent.TeamEntity, team.Id, cancellationToken)
            : ApiResults.NotFound(ProductTeam.NotFoundMessage(teamKey));
    }

    private static string InvalidOdsCode(string url) => $"Invalid ODS Code: could not resolve '{url}'";

    private static string OdsUnavailable(string odsCode) =>
        $"ODS is unavailable: could not check ODS code '{odsCode}'; nothing was created, try again later";

    private static string HasProducts(IEnumerable<string> productIds) =>
        $"Product Team cannot be deleted as it still has associated Product Ids [{string.Join(", ", productIds.Order(StringComparer.Ordinal).Select(id => $"'{id}'"))}]";

    private static string AliasNowTaken(string alias) => $"Product team alias '{alias}' is now held by another live team";
}
