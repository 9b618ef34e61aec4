using System.Text.Json.Serialization;
using Cpm.Api.Auth;
using Cpm.Api.Docs;
using Cpm.Api.Http;
using Cpm.Api.Storage;
using Cpm.Api.Wire;
using Microsoft.AspNetCore.Mvc;

namespace Cpm.Api.Webhooks;

/// <summary>
/// <c>/Webhooks</c> (scope admin): subscriptions made through the API, beside those in
/// configuration. The secret goes in once and is never answered; a subscription's delivery state
/// is read with it.
/// </summary>
internal static class WebhookEndpoints
{
    private const string ExampleId = "3f6c1a52-9d4e-4a57-8a0b-6f1c2d3e4f50";

    public static RouteGroupBuilder MapWebhooks(this IEndpointRouteBuilder routes)
    {
        var notFound = new ApiError(ErrorCodes.ResourceNotFound, NotFoundMessage(ExampleId));
        var group = routes.MapGroup("/Webhooks").WithTags("Webhooks").RequireScope(Caller.AdminScope);
        group.MapPost("", CreateAsync)
            .WithSummary("Subscribe a URL to every event committed from now on, signed with the secret given")
            .DocumentsJsonBody<CreateWebhookBody>()
            .Produces<WebhookBody>(StatusCodes.Status201Created, ApiResults.JsonContentType)
            .WithErrors(
                CommonErrors.InvalidJson,
                new(ErrorCodes.MissingValue, $"{CreateWebhookRequest.Model}.secret: field required"),
                new(ErrorCodes.ValidationError, $"{CreateWebhookRequest.Model}.url: {CreateWebhookRequest.SchemeNotPermitted}"),
                CommonErrors.TooLarge)
            .Idempotent();
        group.MapGet("", ListAsync)
            .WithSummary("Every subscription made through the API, oldest first (never their secrets)")
            .Produces<WebhookListBody>(StatusCodes.Status200OK, ApiResults.JsonContentType);
        group.MapGet("/{webhook_id}", GetAsync)
            .WithSummary("A subscription with its delivery state: delivered through, pending, last attempt")
            .Produces<WebhookStateBody>(StatusCodes.Status200OK, ApiResults.JsonContentType)
            .WithErrors(notFound);
        group.MapDelete("/{webhook_id}", DeleteAsync)
            .WithSummary("Unsubscribe: deliveries to it stop")
            .Produces<OutcomeBody>(StatusCodes.Status200OK, ApiResults.JsonContentType)
            .WithErrors(notFound);
        return group;
    }

    public static string NotFoundMessage(string id) => $"Could not find Webhook for key ('{id}')";

    private static async Task<IResult> CreateAsync(HttpContext context, ICpmStore store, WebhookSecrets secrets, TimeProvider time, CancellationToken cancellationToken)
    {
        var (request, invalid) = await RequestBody.ReadValidAsync(context.Request, CreateWebhookRequest.Validate, cancellationToken);
        if (request is null)
        {
            return invalid!;
        }

        var write = context.WriteContext(time);
        var webhook = new WebhookRecord(Guid.NewGuid().ToString(), request.Url, request.Description, secrets.Protect(request.Secret), write.Now);
        var created = ApiResults.Json(StatusCodes.Status201Created, Write(new PythonJsonWriter(), webhook).EndObject());
        await store.CreateWebhookAsync(webhook, write.Remembering(context, created).Response, cancellationToken);
        return created;
    }

    private static async Task<IResult> ListAsync(ICpmStore store, CancellationToken cancellationToken)
    {
        var json = new PythonJsonWriter().StartObject().Key("results").StartArray();
        foreach (var webhook in await store.ListWebhooksAsync(cancellationToken))
        {
            Write(json, webhook).EndObject();
        }

        return ApiResults.Json(StatusCodes.Status200OK, json.EndArray().EndObject());
    }

    private static async Task<IResult> GetAsync([FromRoute(Name = "webhook_id")] string id, ICpmStore store, CancellationToken cancellationToken)
    {
        if (!IsId(id) || await store.GetWebhookAsync(id, cancellationToken) is not { } webhook)
        {
            return ApiResults.NotFound(NotFoundMessage(id));
        }

        var state = await store.GetDeliveryStateAsync(webhook.Subscriber, cancellationToken);
        var json = Write(new PythonJsonWriter(), webhook)
            .Key("delivered_through");
        _ = state.DeliveredThrough is { } through and > 0 ? json.Number(through) : json.Null();
        json.Property("pending", state.Pending).Key("last_attempt");
        if (state.LastAttempt is { } attempt)
        {
            json.StartObject().Timestamp("at", attempt.At).Key("status");
            _ = attempt.Status is { } status ? json.Number(status) : json.Null();
            json.Property("error", attempt.Error).EndObject();
        }
        else
        {
            json.Null();
        }

        return ApiResults.Json(StatusCodes.Status200OK, json.EndObject());
    }

    private static async Task<IResult> DeleteAsync([FromRoute(Name = "webhook_id")] string id, ICpmStore store, CancellationToken cancellationToken) =>
        IsId(id) && await store.DeleteWebhookAsync(id, cancellationToken)
            ? ApiResults.Deleted(id)
            : ApiResults.NotFound(NotFoundMessage(id));

    /// <summary>The subscription's fields, the object left open for more.</summary>
    private static PythonJsonWriter Write(PythonJsonWriter json, WebhookRecord webhook) => json.StartObject()
        .Property("id", webhook.Id)
        .Property("url", webhook.Url)
        .Property("description", webhook.Description)
        .Property("status", "active")
        .Timestamp("created_on", webhook.CreatedOn);

    /// <summary>Ids are lowercase uuids; anything else cannot name a subscription (and never reaches the store).</summary>
    private static bool IsId(string id) => Guid.TryParseExact(id, "D", out var parsed) && parsed.ToString() == id;
}

internal sealed record CreateWebhookBody(
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("secret")] string Secret,
    [property: JsonPropertyName("description")] string? Description = null);

internal sealed record WebhookBody(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("created_on")] string CreatedOn);

internal sealed record WebhookListBody([property: JsonPropertyName("results")] IReadOnlyList<WebhookBody> Results);

internal sealed record DeliveryAttemptBody(
    [property: JsonPropertyName("at")] string At,
    [property: JsonPropertyName("status")] int? Status,
    [property: JsonPropertyName("error")] string? Error);

internal sealed record WebhookStateBody(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("created_on")] string CreatedOn,
    [property: JsonPropertyName("delivered_through")] long? DeliveredThrough,
    [property: JsonPropertyName("pending")] long Pending,
    [property: JsonPropertyName("last_attempt")] DeliveryAttemptBody? LastAttempt);
