using Cpm.Api.Http;
using Cpm.Api.Wire;

namespace Cpm.Api.Products;

/// <summary>
/// <c>UpdateCpmProductIncomingParams</c>: the body of <c>PATCH /ProductTeam/{id}/Product/{product_id}</c>
/// carries only <c>name</c>, validated as on create; any other field is an extra field.
/// </summary>
internal static class RenameProductRequest
{
    public const string Model = "UpdateCpmProductIncomingParams";

    public static string? Validate(JsonDict body, out IReadOnlyList<ApiError> errors) =>
        new ModelErrors(Model).OnlyName(body, PythonText.IsPrintableAscii, CreateProductRequest.NamePattern, out errors);
}
