using Cpm.Api.Http;

namespace Cpm.Api.ProductTeams;

internal static class EntityStatus
{
    public const string Active = "active";
    public const string Inactive = "inactive";
}

internal sealed record ProductTeamKey(string KeyType, string KeyValue)
{
    public const string ProductTeamIdType = "product_team_id";
}

internal sealed record ProductTeam(
    string Id,
    string Name,
    string OdsCode,
    string Status,
    DateTimeOffset CreatedOn,
    DateTimeOffset? UpdatedOn,
    DateTimeOffset? DeletedOn,
    IReadOnlyList<ProductTeamKey> Keys,
    long Version)
{
    /// <summary>The team's <c>product_team_id</c> key: a second name callers may use in paths.</summary>
    public string? Alias => Keys.FirstOrDefault(key => key.KeyType == ProductTeamKey.ProductTeamIdType)?.KeyValue;

    public bool IsActive => Status == EntityStatus.Active;

    public static string NotFoundMessage(string key) => $"Could not find ProductTeam for key ('{key}')";

    public string ETag => $"W/\"{Version}\"";

    public ProductTeam Deleted(DateTimeOffset now) =>
        this with { Status = EntityStatus.Inactive, UpdatedOn = now, DeletedOn = now, Version = Version + 1 };

    public ProductTeam Renamed(string name, DateTimeOffset now) => this with { Name = name, UpdatedOn = now, Version = Version + 1 };

    public ProductTeam Restored(DateTimeOffset now) =>
        this with { Status = EntityStatus.Active, UpdatedOn = now, DeletedOn = null, Version = Version + 1 };

    public PythonJsonWriter WriteTo(PythonJsonWriter json)
    {
        json.StartObject()
            .Property("id", Id)
            .Property("name", Name)
            .Property("ods_code", OdsCode)
            .Property("status", Status)
            .Timestamp("created_on", CreatedOn)
            .Timestamp("updated_on", UpdatedOn)
            .Timestamp("deleted_on", DeletedOn)
            .Key("keys").StartArray();
        foreach (var key in Keys)
        {
            json.StartObject().Property("key_type", key.KeyType).Property("key_value", key.KeyValue).EndObject();
        }

        return json.EndArray().EndObject();
    }
}
