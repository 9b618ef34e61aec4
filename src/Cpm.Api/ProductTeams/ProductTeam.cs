using Cpm.Api.Entities;
using Cpm.Api.Wire;

namespace Cpm.Api.ProductTeams;

internal sealed record ProductTeamKey(string KeyType, string KeyValue)
{
    public const string ProductTeamIdType = "product_team_id";

    /// <summary><c>[{"key_type": ..., "key_value": ...}, ...]</c>: in team bodies, and as SQLite stores them.</summary>
    public static PythonJsonWriter WriteAll(PythonJsonWriter json, IReadOnlyList<ProductTeamKey> keys)
    {
        json.StartArray();
        foreach (var key in keys)
        {
            json.StartObject().Property("key_type", key.KeyType).Property("key_value", key.KeyValue).EndObject();
        }

        return json.EndArray();
    }
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
    long Version) : Entity<ProductTeam>(Id, Name, Status, CreatedOn, UpdatedOn, DeletedOn, Version)
{
    /// <summary>The team's <c>product_team_id</c> key: a second name callers may use in paths.</summary>
    public string? Alias => Keys.FirstOrDefault(key => key.KeyType == ProductTeamKey.ProductTeamIdType)?.KeyValue;

    public static string NotFoundMessage(string key) => $"Could not find ProductTeam for key ('{key}')";

    public PythonJsonWriter WriteTo(PythonJsonWriter json)
    {
        json.StartObject()
            .Property("id", Id)
            .Property("name", Name)
            .Property("ods_code", OdsCode);
        WriteLifecycle(json).Key("keys");
        return ProductTeamKey.WriteAll(json, Keys).EndObject();
    }
}
