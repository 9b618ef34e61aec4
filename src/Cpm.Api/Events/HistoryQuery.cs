using System.Globalization;
using Cpm.Api.Http;
using Cpm.Api.Storage;
using Cpm.Api.Wire;

namespace Cpm.Api.Events;

/// <summary>
/// <c>HistoryQueryParams</c>: an entity's history takes <c>limit</c> and <c>cursor</c> as the team
/// listing does. Without <c>limit</c> the whole history is sent, read and written in bounded pieces.
/// </summary>
internal sealed record HistoryQuery(PageRequest? Page, string Scope)
{
    public const string Model = "HistoryQueryParams";

    /// <summary>The query for the entity named by <paramref name="key"/> in the path, or null with the 400 to answer.</summary>
    public static HistoryQuery? Read(HttpRequest request, string entityType, string key, out IResult? error)
    {
        var model = new ModelErrors(Model);
        var query = QueryParameters.Read(request);
        var scope = $"history:{entityType}:{key}";
        var page = Paging.Read(model, query, scope);

        // Other parameters are ignored, as history always ignored them.
        Paging.RequireLimitWithCursor(model, query);
        error = model.HasErrors ? ApiResults.Errors(model.Errors) : null;
        return model.HasErrors ? null : new HistoryQuery(page, scope);
    }

    /// <summary><c>{"events": [...]}</c>, oldest first; with a page, <c>"next_cursor"</c> after it.</summary>
    public async Task<IResult> AnswerAsync(ICpmStore store, string entityType, string entityId, CancellationToken cancellationToken)
    {
        if (Page is null)
        {
            return JsonPieces.Result(async (pieces, token) =>
            {
                pieces.Json.StartObject().Key("events").StartArray();
                await pieces.WriteAllAsync<SequencedEvent>(
                    (last, limit, ct) => store.GetHistoryAsync(entityType, entityId, last?.Sequence ?? 0, limit, ct),
                    sequenced => sequenced.Event.WriteTo(pieces.Json),
                    token);
                pieces.Json.EndArray().EndObject();
            });
        }

        var start = Page.After is [var position] ? long.Parse(position, CultureInfo.InvariantCulture) : 0;
        var found = await store.GetHistoryAsync(entityType, entityId, start, Page.Limit + 1, cancellationToken);
        var json = new PythonJsonWriter().StartObject().Key("events").StartArray();
        foreach (var sequenced in found.Take(Page.Limit))
        {
            sequenced.Event.WriteTo(json);
        }

        var next = found.Count > Page.Limit ? Paging.Encode(Scope, Paging.SequenceCursor(found[Page.Limit - 1].Sequence)) : null;
        return ApiResults.Json(StatusCodes.Status200OK, json.EndArray().Property("next_cursor", next).EndObject());
    }
}
