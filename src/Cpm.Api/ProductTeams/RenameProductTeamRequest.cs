using Cpm.Api.Http;
using Cpm.Api.Wire;

namespace Cpm.Api.ProductTeams;

/// <summary>
/// <c>UpdateProductTeamIncomingParams</c>: the body of <c>PATCH /ProductTeam/{id}</c> carries only
/// <c>name</c>, validated as on create; any other field, <c>ods_code</c> and <c>keys</c> included,
/// is an extra field.
/// </summary>
internal static class RenameProductTeamRequest
{
    public const string Model = "UpdateProductTeamIncomingParams";

    public static string? Validate(JsonDict body, out IReadOnlyList<ApiError> errors) =>
        new ModelErrors(Model).OnlyName(body, PythonText.IsSingleSpacedWords, CreateProductTeamRequest.NamePattern, out errors);
}
