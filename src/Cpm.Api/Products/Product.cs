using Cpm.Api.Http;
using Cpm.Api.ProductTeams;

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
    long Version)
{
    public bool IsActive => Status == EntityStatus.Active;

    public static string NotFoundMessage(string productId) => $"Could not find CpmProduct for key ('{productId}')";

    public static string NotFoundInTeamMessage(string teamId, string productId) =>
        $"Could not find CpmProduct for key ('{teamId}', '{productId}')";

    public string ETag => $"W/\"{Version}\"";

    public Product Deleted(DateTimeOffset now) =>
        this with { Status = EntityStatus.Inactive, UpdatedOn = now, DeletedOn = now, Version = Version + 1 };

    public Product Renamed(string name, DateTimeOffset now) => this with { Name = name, UpdatedOn = now, Version = Version + 1 };

    public Product Restored(DateTimeOffset now) =>
        this with { Status = EntityStatus.Active, UpdatedOn = now, DeletedOn = null, Version = Version + 1 };

    public PythonJsonWriter WriteTo(PythonJsonWriter json) => json.StartObject()
        .Property("id", Id)
        .Property("cpm_product_team_id", TeamId)
        .Property("product_team_id", TeamAlias)
        .Property("name", Name)
        .Property("ods_code", OdsCode)
        .Property("status", Status)
        .Timestamp("created_on", CreatedOn)
        .Timestamp("updated_on", UpdatedOn)
        .Timestamp("deleted_on", DeletedOn)
        .Key("keys").StartArray().EndArray()
        .EndObject();
}
