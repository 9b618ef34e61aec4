using Cpm.Api.Http;

namespace Cpm.Api.ProductTeams;

/// <summary>
/// <c>UpdateProductTeamIncomingParams</c> and <c>UpdateCpmProductIncomingParams</c>: a PATCH body
/// carries only <c>name</c>, validated as on create; any other field, <c>ods_code</c> and
/// <c>keys</c> included, is an extra field.
/// </summary>
internal static class UpdateRequests
{
    public const string TeamModel = "UpdateProductTeamIncomingParams";
    public const string ProductModel = "UpdateCpmProductIncomingParams";

    private const string NameField = "name";

    public static string? ValidateTeamName(JsonDict body, out IReadOnlyList<ApiError> errors) =>
        ValidateName(new ModelErrors(TeamModel), body, PythonText.IsSingleSpacedWords, CreateProductTeamRequest.NamePattern, out errors);

    public static string? ValidateProductName(JsonDict body, out IReadOnlyList<ApiError> errors) =>
        ValidateName(new ModelErrors(ProductModel), body, PythonText.IsPrintableAscii, Products.CreateProductRequest.NamePattern, out errors);

    private static string? ValidateName(ModelErrors model, JsonDict body, Func<string, bool> matches, string pattern, out IReadOnlyList<ApiError> errors)
    {
        var name = model.RequiredName(body, NameField, matches, pattern);
        model.RejectUnknownFields(body.Keys, NameField);
        errors = model.Errors;
        return model.HasErrors ? null : name;
    }
}
