using Cpm.Api.Auth;
using Cpm.Api.Storage;

namespace Cpm.Api.Export;

/// <summary>
/// <c>GET /Export</c> (scope admin): the whole register as NDJSON, one object per line with a
/// <c>kind</c>: teams and products (deleted ones included, with their versions), then every event
/// in feed order. <see cref="ImportCommand"/> loads such a file into an empty store.
/// </summary>
internal static class ExportEndpoints
{
    public const string ContentType = "application/x-ndjson";
    private const int EventPage = 1000;

    public static void MapExport(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/Export", ExportAsync)
            .WithTags("Export")
            .WithSummary("The whole register as NDJSON: teams, products, then events in feed order")
            .RequireScope(Caller.AdminScope)
            .Produces(StatusCodes.Status200OK, contentType: ContentType);

    private static async Task ExportAsync(HttpResponse response, ICpmStore store, CancellationToken cancellationToken)
    {
        response.ContentType = ContentType;
        await using var output = new StreamWriter(response.Body, System.Text.Encoding.ASCII, leaveOpen: true) { NewLine = "\n" };
        await foreach (var team in store.ExportTeamsAsync(cancellationToken))
        {
            await output.WriteLineAsync(ExportFormat.Line(team));
        }

        await foreach (var product in store.ExportProductsAsync(cancellationToken))
        {
            await output.WriteLineAsync(ExportFormat.Line(product));
        }

        long after = 0;
        while (true)
        {
            var page = await store.ReadEventsAsync(after, EventPage, cancellationToken);
            foreach (var sequenced in page)
            {
                await output.WriteLineAsync(ExportFormat.Line(sequenced.Event));
            }

            if (page.Count < EventPage)
            {
                break;
            }

            after = page[^1].Sequence;
        }

        await output.FlushAsync(cancellationToken);
    }
}
