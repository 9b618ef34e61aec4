using System.Text.Json.Serialization;

namespace Cpm.Api.Docs;

// The shapes of the wire bodies, for the OpenAPI document only: bodies themselves are written
// by PythonJsonWriter, and a test compares real responses with these schemas so they cannot drift.

internal sealed record ProductTeamKeyBody(
    [property: JsonPropertyName("key_type")] string KeyType,
    [property: JsonPropertyName("key_value")] string KeyValue);

internal sealed record CreateProductTeamBody(
    [property: JsonPropertyName("ods_code")] string OdsCode,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("keys")] IReadOnlyList<ProductTeamKeyBody>? Keys = null);

internal sealed record ProductTeamBody(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("ods_code")] string OdsCode,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("created_on")] string CreatedOn,
    [property: JsonPropertyName("updated_on")] string? UpdatedOn,
    [property: JsonPropertyName("deleted_on")] string? DeletedOn,
    [property: JsonPropertyName("keys")] IReadOnlyList<ProductTeamKeyBody> Keys);

internal sealed record ProductTeamListBody(
    [property: JsonPropertyName("results")] IReadOnlyList<ProductTeamBody> Results,
    [property: JsonPropertyName("next_cursor")] string? NextCursor = null);

/// <summary>The body of both PATCH routes.</summary>
internal sealed record RenameBody([property: JsonPropertyName("name")] string Name);

internal sealed record CreateProductBody([property: JsonPropertyName("name")] string Name);

internal sealed record ProductBody(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("cpm_product_team_id")] string CpmProductTeamId,
    [property: JsonPropertyName("product_team_id")] string? ProductTeamId,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("ods_code")] string OdsCode,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("created_on")] string CreatedOn,
    [property: JsonPropertyName("updated_on")] string? UpdatedOn,
    [property: JsonPropertyName("deleted_on")] string? DeletedOn,
    [property: JsonPropertyName("keys")] IReadOnlyList<ProductTeamKeyBody> Keys);

internal sealed record SearchTeamBody(
    [property: JsonPropertyName("product_team_id")] string? ProductTeamId,
    [property: JsonPropertyName("cpm_product_team_id")] string CpmProductTeamId,
    [property: JsonPropertyName("products")] IReadOnlyList<ProductBody> Products);

internal sealed record SearchOrganisationBody(
    [property: JsonPropertyName("org_code")] string OrgCode,
    [property: JsonPropertyName("product_teams")] IReadOnlyList<SearchTeamBody> ProductTeams);

internal sealed record SearchResultsBody(
    [property: JsonPropertyName("results")] IReadOnlyList<SearchOrganisationBody> Results,
    [property: JsonPropertyName("next_cursor")] string? NextCursor = null);

/// <summary>Both <c>RESOURCE_DELETED</c> answers and <c>/_status</c>.</summary>
internal sealed record OutcomeBody(
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("message")] string Message);

internal sealed record ErrorItemBody(
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("message")] string Message);

internal sealed record ErrorsBody([property: JsonPropertyName("errors")] IReadOnlyList<ErrorItemBody> Errors);

internal sealed record FieldChangeBody(
    [property: JsonPropertyName("field")] string Field,
    [property: JsonPropertyName("old")] string? Old,
    [property: JsonPropertyName("new")] string? New);

internal sealed record EventBody(
    [property: JsonPropertyName("event_id")] string EventId,
    [property: JsonPropertyName("entity_type")] string EntityType,
    [property: JsonPropertyName("entity_id")] string EntityId,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("occurred_on")] string OccurredOn,
    [property: JsonPropertyName("version")] long Version,
    [property: JsonPropertyName("request_id")] string? RequestId,
    [property: JsonPropertyName("correlation_id")] string? CorrelationId,
    [property: JsonPropertyName("actor")] string Actor,
    [property: JsonPropertyName("changes")] IReadOnlyList<FieldChangeBody> Changes);

internal sealed record HistoryBody([property: JsonPropertyName("events")] IReadOnlyList<EventBody> Events);

internal sealed record FeedBody(
    [property: JsonPropertyName("events")] IReadOnlyList<EventBody> Events,
    [property: JsonPropertyName("next_cursor")] string NextCursor);
