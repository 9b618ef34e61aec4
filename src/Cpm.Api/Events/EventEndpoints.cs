using System.Globalization;
using Cpm.Api.Docs;
using Cpm.Api.Http;
using Cpm.Api.Storage;
using Cpm.Api.Wire;

namespace Cpm.Api.Events;

/// <summary>
/// <c>GET /Events</c>: every event in commit order. The cursor is the sequence of the last event
/// read, so a poller that resumes from its cursors sees each event exactly once.
/// </summary>
internal static class EventEndpoints
{
    public const int DefaultLimit = 100;
    private const string Model = "ReadEventsQueryParams";
    private const string AfterField = "after";

    public static void MapEvents(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/Events", ReadAsync)
            .WithTags("Events")
            .WithSummary("The change feed: events in commit order after a cursor; limit defaults to 100, at most 1000")
            .Produces<FeedBody>(StatusCodes.Status200OK, ApiResults.JsonContentType)
            .WithErrors(new ApiError(ErrorCodes.ValidationError, $"{Model}.{AfterField}: invalid cursor"));

    private static async Task<IResult> ReadAsync(HttpRequest request, ICpmStore store, CancellationToken cancellationToken)
    {
        var query = QueryParameters.Read(request);
        var model = new ModelErrors(Model);
        long after = 0;
        if (query.TryGetValue(AfterField, out var cursor)
            && (!long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out after) || after < 0))
        {
            model.Invalid(AfterField, "invalid cursor");
        }

        var limit = query.TryGetValue(Paging.LimitField, out var limitText) ? Paging.ReadLimit(model, limitText, Paging.MaxLimit) : DefaultLimit;
        model.RejectUnknownFields(query.Keys, AfterField, Paging.LimitField);
        if (model.HasErrors)
        {
            return ApiResults.Errors(model.Errors);
        }

        var events = await store.ReadEventsAsync(after, limit!.Value, cancellationToken);
        var json = new PythonJsonWriter().StartObject().Key("events").StartArray();
        foreach (var sequenced in events)
        {
            sequenced.Event.WriteTo(json);
        }

        var next = events.Count > 0 ? events[^1].Sequence : after;
        return ApiResults.Json(StatusCodes.Status200OK, json.EndArray().Property("next_cursor", Paging.SequenceCursor(next)).EndObject());
    }
}
