using Cpm.Api.Entities;
using Cpm.Api.Wire;

namespace Cpm.Api.Products;

internal sealed record Product(
    string Id,
    string TeamId,
    string? TeamAlias,
    string Name,
    string OdsCode,
    string Status,
    DateTimeOffset CreatedOn,
    DateTimeOffset? UpdatedOn,
    DateTimeOffset? DeletedOn,
    long Version) : Entity<Product>(Id, Name, Status, CreatedOn, UpdatedOn, DeletedOn, Version)
{
    public static string NotFoundMessage(string productId) => $"Could not find CpmProduct for key ('{productId}')";

    public static string NotFoundInTeamMessage(string teamId, string productId) =>
        $"Could not find CpmProduct for key ('{teamId}', '{productId}')";

    public PythonJsonWriter WriteTo(PythonJsonWriter json)
    {
        json.StartObject()
            .Property("id", Id)
            .Property("cpm_product_team_id", TeamId)
            .Property("product_team_id", TeamAlias)
            .Property("name", Name)
            .Property("ods_code", OdsCode);
        return WriteLifecycle(json).Key("keys").StartArray().EndArray().EndObject();
    }
}
