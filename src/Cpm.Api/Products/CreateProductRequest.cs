using Cpm.Api.Http;
using Cpm.Api.Wire;

namespace Cpm.Api.Products;

/// <summary><c>CreateCpmProductIncomingParams</c>: the body of <c>POST /ProductTeam/{id}/Product</c>.</summary>
internal sealed record CreateProductRequest(string Name)
{
    public const string Model = "CreateCpmProductIncomingParams";
    public const string NamePattern = "^[ -~]+$";

    private const string NameField = "name";

    public static CreateProductRequest? Validate(JsonDict body, out IReadOnlyList<ApiError> errors)
    {
        var model = new ModelErrors(Model);
        var name = model.RequiredName(body, NameField, PythonText.IsPrintableAscii, NamePattern);
        model.RejectUnknownFields(body.Keys, NameField);
        errors = model.Errors;
        return model.HasErrors ? null : new CreateProductRequest(name!);
    }
}
