using Cpm.Api.Entities;
using Cpm.Api.Products;
using Cpm.Api.ProductTeams;
using Cpm.Api.Wire;

namespace Cpm.Api.Storage;

internal sealed record FieldChange(string Field, string? Old, string? New);

/// <summary>
/// What one write did to one entity. Every adapter stores it in the write's own transaction;
/// history, the change feed and webhooks are all read from these.
/// </summary>
internal sealed record ChangeEvent(
    string EventId,
    string EntityType,
    string EntityId,
    string Type,
    DateTimeOffset OccurredOn,
    long Version,
    string? RequestId,
    string? CorrelationId,
    string Actor,
    IReadOnlyList<FieldChange> Changes)
{
    public const string TeamEntity = "product_team";
    public const string ProductEntity = "product";

    public static ChangeEvent TeamCreated(ProductTeam team, WriteContext context)
    {
        List<FieldChange> changes =
        [
            new("name", null, team.Name),
            new("ods_code", null, team.OdsCode),
            new("status", null, team.Status),
        ];
        if (team.Alias is { } alias)
        {
            changes.Add(new FieldChange(ProductTeamKey.ProductTeamIdType, null, alias));
        }

        return Create(TeamEntity, team.Id, "ProductTeamCreated", team.Version, context, changes);
    }

    public static ChangeEvent TeamDeleted(ProductTeam deleted, WriteContext context) =>
        Create(TeamEntity, deleted.Id, "ProductTeamDeleted", deleted.Version, context, [StatusChange(EntityStatus.Active, EntityStatus.Inactive)]);

    public static ChangeEvent TeamRenamed(ProductTeam before, ProductTeam after, WriteContext context) =>
        Create(TeamEntity, after.Id, "ProductTeamUpdated", after.Version, context, [new("name", before.Name, after.Name)]);

    public static ChangeEvent TeamRestored(ProductTeam restored, WriteContext context) =>
        Create(TeamEntity, restored.Id, "ProductTeamRestored", restored.Version, context, [StatusChange(EntityStatus.Inactive, EntityStatus.Active)]);

    public static ChangeEvent ProductRenamed(Product before, Product after, WriteContext context) =>
        Create(ProductEntity, after.Id, "ProductUpdated", after.Version, context, [new("name", before.Name, after.Name)]);

    public static ChangeEvent ProductRestored(Product restored, WriteContext context) =>
        Create(ProductEntity, restored.Id, "ProductRestored", restored.Version, context, [StatusChange(EntityStatus.Inactive, EntityStatus.Active)]);

    public static ChangeEvent ProductCreated(Product product, WriteContext context) =>
        Create(ProductEntity, product.Id, "ProductCreated", product.Version, context,
        [
            new("name", null, product.Name),
            new("cpm_product_team_id", null, product.TeamId),
            new("status", null, product.Status),
        ]);

    public static ChangeEvent ProductDeleted(Product deleted, WriteContext context) =>
        Create(ProductEntity, deleted.Id, "ProductDeleted", deleted.Version, context, [StatusChange(EntityStatus.Active, EntityStatus.Inactive)]);

    public PythonJsonWriter WriteTo(PythonJsonWriter json)
    {
        json.StartObject()
            .Property("event_id", EventId)
            .Property("entity_type", EntityType)
            .Property("entity_id", EntityId)
            .Property("type", Type)
            .Timestamp("occurred_on", OccurredOn)
            .Property("version", Version)
            .Property("request_id", RequestId)
            .Property("correlation_id", CorrelationId)
            .Property("actor", Actor)
            .Key("changes");
        return WriteChanges(json, Changes).EndObject();
    }

    public static PythonJsonWriter WriteChanges(PythonJsonWriter json, IReadOnlyList<FieldChange> changes)
    {
        json.StartArray();
        foreach (var change in changes)
        {
            json.StartObject().Property("field", change.Field).Property("old", change.Old).Property("new", change.New).EndObject();
        }

        return json.EndArray();
    }

    public static IReadOnlyList<FieldChange> ParseChanges(string json) =>
        ((List<object?>)PythonJsonParser.Parse(json)!)
            .Cast<JsonDict>()
            .Select(change => new FieldChange((string)change["field"]!, change["old"] as string, change["new"] as string))
            .ToList();

    private static FieldChange StatusChange(string from, string to) => new("status", from, to);

    /// <summary>
    /// Event ids are version 7 uuids: they begin with the time, so a new id files at the end of the
    /// store's event id index (one page every write touches anyway) instead of on a random page.
    /// </summary>
    private static ChangeEvent Create(string entityType, string entityId, string type, long version, WriteContext context, IReadOnlyList<FieldChange> changes) =>
        new(Guid.CreateVersion7(context.Now).ToString(), entityType, entityId, type, context.Now, version, context.RequestId, context.CorrelationId, context.Actor, changes);
}
